"""The migrating storage mode on the real emulators: Azurite + moto, one client over both.

Each test names the cut-over promise it checks (crownsafe.cutover.client): where each
phase writes and reads, that only a not-found on Azure falls back to S3 (counted, with the
blob name), that deletes reach both stores, and that URLs come from the store holding
the object.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from urllib.parse import urlsplit
from urllib.request import urlopen

import pytest

from crownsafe.cutover.client import MigratingStorageClient
from crownsafe.cutover.phases import MigrationPhase
from crownsafe.errors import BlobNotFoundError
from crownsafe.objects.keys import target_blob_name
from crownsafe.storage.base import StorageClient
from harness.fixtures.storage import StorageClientFactory

pytestmark = pytest.mark.migration


class Observed:
    def __init__(self) -> None:
        self.fallbacks: list[tuple[str, str]] = []
        self.second_write_failures: list[tuple[str, str]] = []


class Stores:
    def __init__(self, azure: StorageClient, s3: StorageClient) -> None:
        self.azure, self.s3 = azure, s3
        self.phase = MigrationPhase.DUAL_WRITE
        self.observed = Observed()

    def client(self, s3: StorageClient | None = None) -> MigratingStorageClient:
        return MigratingStorageClient(
            self.azure,
            s3 or self.s3,
            lambda: self.phase,
            on_fallback=lambda op, name: self.observed.fallbacks.append((op, name)),
            on_secondary_failure=lambda op, name: self.observed.second_write_failures.append(
                (op, name)
            ),
        )


@pytest.fixture
def stores(make_storage_client: StorageClientFactory) -> Stores:
    return Stores(make_storage_client("azure"), make_storage_client("s3"))


class OneWayStream(io.RawIOBase):
    """A non-seekable stream (what the API hands over while a request body streams in)."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_dual_write_stores_on_both_and_reads_s3(stores: Stores) -> None:
    """dual-write: S3 first, Azure second; reads come from S3 (Azure's copy is not read)."""
    client = stores.client()
    url = client.upload_file("u1/a.bin", b"payload", content_type="application/x-test")
    assert urlsplit(url).path.endswith("/a.bin")
    assert stores.s3.download_blob("u1/a.bin") == b"payload"
    assert stores.azure.download_blob("u1/a.bin") == b"payload"
    assert stores.azure.head_object("u1/a.bin").content_type == "application/x-test"
    stores.azure.delete_blob("u1/a.bin")
    assert client.download_blob("u1/a.bin") == b"payload"
    assert stores.observed.fallbacks == []


def test_dual_write_of_a_stream_copies_what_s3_stored(stores: Stores) -> None:
    """A one-way stream is read once: Azure's copy is streamed back from S3, byte for byte."""
    data = bytes(range(256)) * 4000
    client = stores.client()
    client.upload_file("u1/stream.bin", OneWayStream(data), length=len(data))
    assert stores.azure.download_blob("u1/stream.bin") == data
    assert stores.s3.download_blob("u1/stream.bin") == data


def test_a_failed_second_write_is_counted_and_the_call_succeeds(
    stores: Stores, make_storage_client: StorageClientFactory
) -> None:
    """azure-reads writes Azure then S3; an S3 that refuses leaves Azure's copy and a count."""
    gone = make_storage_client("s3")
    gone.delete_container()
    stores.phase = MigrationPhase.AZURE_READS
    client = stores.client(s3=gone)
    client.upload_file("u1/only-azure.bin", b"kept")
    assert stores.azure.download_blob("u1/only-azure.bin") == b"kept"
    assert stores.observed.second_write_failures == [("upload_file", "u1/only-azure.bin")]


def test_azure_reads_fall_back_to_s3_only_for_what_azure_lacks(stores: Stores) -> None:
    """azure-reads: a blob only S3 has is read from S3 and counted; Azure's is not counted."""
    stores.s3.upload_file("old/scan.bin", b"from s3")
    stores.azure.upload_file("new/scan.bin", b"from azure")
    stores.phase = MigrationPhase.AZURE_READS
    client = stores.client()
    assert client.download_blob("new/scan.bin") == b"from azure"
    assert stores.observed.fallbacks == []
    assert client.download_blob("old/scan.bin") == b"from s3"
    assert b"".join(client.iter_blob_chunks("old/scan.bin", 3)) == b"from s3"
    assert client.head_object("old/scan.bin").size == len(b"from s3")
    assert client.blob_exists("old/scan.bin")
    assert not client.blob_exists("never/there.bin")
    ops = [op for op, name in stores.observed.fallbacks if name == "old/scan.bin"]
    assert ops == ["download_blob", "iter_blob_chunks", "head_object", "blob_exists"]


def test_azure_only_does_not_fall_back(stores: Stores) -> None:
    """azure-only: what Azure lacks is not found, even when S3 still has it."""
    stores.s3.upload_file("old/scan.bin", b"from s3")
    stores.phase = MigrationPhase.AZURE_ONLY
    with pytest.raises(BlobNotFoundError):
        stores.client().download_blob("old/scan.bin")
    assert stores.observed.fallbacks == []


def test_an_s3_key_azure_refuses_is_read_under_its_mapped_name(stores: Stores) -> None:
    """A key that is no valid Azure name is found where migrate-objects put it."""
    key = "legacy/name ending in a dot."
    mapped = target_blob_name(key)
    assert mapped != key
    stores.azure.upload_file(mapped, b"copied")
    stores.phase = MigrationPhase.AZURE_READS
    assert stores.client().download_blob(key) == b"copied"
    assert stores.observed.fallbacks == []


def test_delete_reaches_both_stores(stores: Stores) -> None:
    """delete_blob removes both copies; a blob on neither is not found unless missing_ok."""
    client = stores.client()
    client.upload_file("u1/gone.bin", b"x")
    assert client.delete_blob("u1/gone.bin") is True
    assert not stores.s3.blob_exists("u1/gone.bin")
    assert not stores.azure.blob_exists("u1/gone.bin")
    with pytest.raises(BlobNotFoundError):
        client.delete_blob("u1/gone.bin")
    assert client.delete_blob("u1/gone.bin", missing_ok=True) is False


@pytest.mark.parametrize(
    ("holder", "host_of"),
    [("s3", lambda s: s.s3), ("azure", lambda s: s.azure)],
    ids=["held-by-s3", "held-by-azure"],
)
def test_read_urls_come_from_the_store_holding_the_blob(
    stores: Stores, holder: str, host_of: Callable[[Stores], StorageClient]
) -> None:
    """azure-reads: a read SAS / presigned URL is minted where the blob is, and works."""
    host_of(stores).upload_file("u1/shared.bin", holder.encode())
    stores.phase = MigrationPhase.AZURE_READS
    client = stores.client()
    url = client.generate_sas_url("u1/shared.bin", expiry_hours=0.1)
    expected = urlsplit(host_of(stores).get_blob_url("u1/shared.bin")).netloc
    assert urlsplit(url).netloc == expected
    with urlopen(url, timeout=10) as response:
        assert response.read() == holder.encode()


def test_listing_merges_both_stores_by_name(stores: Stores) -> None:
    """azure-reads lists the union in name order, once per name."""
    stores.s3.upload_file("p/a", b"1")
    stores.s3.upload_file("p/b", b"2")
    stores.azure.upload_file("p/b", b"2")
    stores.azure.upload_file("p/c", b"3")
    stores.phase = MigrationPhase.AZURE_READS
    names = [blob.name for blob in stores.client().iter_blobs("p/")]
    assert names == ["p/a", "p/b", "p/c"]
    assert [b.name for b in stores.client().list_blobs("p/", max_results=2)] == ["p/a", "p/b"]
