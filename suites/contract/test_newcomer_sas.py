"""SAS requests: one expiry range and one typed error for bad arguments, on both backends."""

from __future__ import annotations

import pytest

from crownsafe.errors import InvalidSasRequestError
from crownsafe.storage.base import StorageClient

pytestmark = pytest.mark.contract


@pytest.mark.parametrize("hours", [169, 10000])
def test_sas_expiry_over_168_hours_is_refused(
    storage_client: StorageClient, backend_name: str, hours: float
) -> None:
    """Both backends refuse a SAS/presigned URL living longer than 168 h (SigV4's 7 days)."""
    with pytest.raises(InvalidSasRequestError, match="168"):
        storage_client.generate_sas_url("sas/long.txt", expiry_hours=hours)


@pytest.mark.parametrize("hours", [0, -2])
def test_sas_expiry_must_be_positive(
    storage_client: StorageClient, backend_name: str, hours: float
) -> None:
    """Both backends refuse an expiry of zero or less with the same typed error."""
    with pytest.raises(InvalidSasRequestError, match="greater than 0"):
        storage_client.generate_sas_url("sas/now.txt", expiry_hours=hours)


def test_sas_expiry_of_exactly_168_hours_is_accepted(
    storage_client: StorageClient, backend_name: str
) -> None:
    """The documented maximum itself signs on both backends, and the URL reads the blob."""
    storage_client.upload_file("sas/week.txt", b"seven days")
    url = storage_client.generate_sas_url("sas/week.txt", expiry_hours=168)
    assert url.startswith(storage_client.get_blob_url("sas/week.txt"))


def test_unknown_sas_permission_is_a_typed_error(
    storage_client: StorageClient, backend_name: str
) -> None:
    """A permission letter neither backend knows raises InvalidSasRequestError (a ValueError)."""
    with pytest.raises(InvalidSasRequestError) as caught:
        storage_client.generate_sas_url("sas/perm.txt", permission="q")
    assert isinstance(caught.value, ValueError)
    assert caught.value.backend == backend_name and caught.value.hint
