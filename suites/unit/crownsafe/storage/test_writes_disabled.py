"""AZURE_BLOB_ENABLED (the migration's feature flag): Azure storage takes writes only when
it is true."""

from __future__ import annotations

import dataclasses

import pytest

from crownsafe.config import SecretStr, Settings, load_settings, storage_writes_enabled
from crownsafe.errors import StorageConfigError, StorageWritesDisabledError
from crownsafe.storage import create_storage_client
from crownsafe.storage.azure import AzureBlobStorageClient

EMULATOR_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
DISABLED = Settings(
    storage_backend="azure",
    azure_blob_enabled=False,
    azure_storage_connection_string=SecretStr(
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
        f"AccountKey={EMULATOR_KEY};BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;"
    ),
    azure_storage_container="unit-disabled",
    storage_resilient=False,
)


def test_the_helper_other_parts_call() -> None:
    """storage_writes_enabled: False only for the azure backend with the flag off."""
    assert storage_writes_enabled(DISABLED) is False
    assert storage_writes_enabled(dataclasses.replace(DISABLED, azure_blob_enabled=True))
    assert storage_writes_enabled(dataclasses.replace(DISABLED, storage_backend="s3"))
    assert load_settings({"AZURE_BLOB_ENABLED": "true"}).azure_blob_enabled is True
    assert Settings().azure_blob_enabled is False


@pytest.mark.parametrize(
    "write",
    [
        lambda c: c.upload_file("a/b.txt", b"x"),
        lambda c: c.delete_blob("a/b.txt"),
        lambda c: c.create_container(),
        lambda c: c.delete_container(),
        lambda c: c.generate_sas_url("a/b.txt", permission="w"),
        lambda c: c.generate_sas_url("a/b.txt", permission="rw"),
    ],
    ids=["upload", "delete", "create_container", "delete_container", "sas-w", "sas-rw"],
)
def test_writes_to_azure_raise_a_typed_error_when_the_flag_is_off(write: object) -> None:
    """Each write fails before any I/O with StorageWritesDisabledError naming the flag."""
    client = create_storage_client(DISABLED)
    try:
        with pytest.raises(StorageWritesDisabledError) as caught:
            write(client)  # type: ignore[operator]
    finally:
        client.close()
    error = caught.value
    assert isinstance(error, StorageConfigError)
    assert "AZURE_BLOB_ENABLED" in str(error) and "AZURE_BLOB_ENABLED=true" in error.hint


def test_reads_and_urls_still_work_when_writes_are_off() -> None:
    client = create_storage_client(DISABLED)
    try:
        assert client.get_blob_url("a/b.txt").endswith("/unit-disabled/a/b.txt")
        assert "sp=r" in client.generate_sas_url("a/b.txt", permission="r")
        assert (client.backend, client.container_name) == ("azure", "unit-disabled")
    finally:
        client.close()


def test_with_the_flag_on_the_plain_azure_client_is_built() -> None:
    client = create_storage_client(dataclasses.replace(DISABLED, azure_blob_enabled=True))
    try:
        assert isinstance(client, AzureBlobStorageClient)
    finally:
        client.close()
