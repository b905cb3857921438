"""harness.services.base: what every provider does with a provision mode it cannot use."""

from __future__ import annotations

import pytest

from harness.services.azurite import AzuriteService
from harness.services.base import ServiceStartError
from harness.services.redis import RedisService
from harness.services.s3 import S3Service


@pytest.mark.parametrize(
    ("service", "variables"),
    [
        (AzuriteService("external", environ={}), ["HARNESS_AZURE_CONNECTION_STRING"]),
        (
            S3Service("external", environ={"HARNESS_S3_ENDPOINT_URL": "http://x"}),
            ["HARNESS_S3_ACCESS_KEY_ID", "HARNESS_S3_SECRET_ACCESS_KEY"],
        ),
        (RedisService("external", environ={}), ["HARNESS_REDIS_URL"]),
    ],
    ids=["azure", "s3", "redis"],
)
def test_external_mode_without_variables_says_which(
    service: AzuriteService | S3Service | RedisService, variables: list[str]
) -> None:
    """--provision external with nothing configured names the variables to set."""
    with pytest.raises(ServiceStartError) as caught:
        service.check_prerequisites()
    for variable in variables:
        assert variable in str(caught.value)
    assert "--provision local" in caught.value.fix


def test_unknown_mode_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown provision mode"):
        AzuriteService("cloud")  # type: ignore[arg-type]
