"""`upload_file(..., length=n)` from a non-seekable stream: one streamed request, exact bytes.

S3 sends one PutObject whose body is read while it is sent (aws-chunked, CRC32 trailer:
without it LocalStack stores a cut-short body) for a new object (overwrite=False), and
create + one streamed part + complete for an overwrite (an aborted PUT damages
LocalStack's existing object); Azure one Put Block and one Put Block List. A stream
shorter or longer than `length` raises the typed `UploadLengthMismatchError` and stores
nothing; overwrite=False is honoured.

The async clients (ids `-async`) keep the same promises another way: a known length up to
the single-put threshold is read whole and sent in one write (S3: one PutObject whatever
`overwrite`; Azure: one Put Blob), so a short or long stream is refused before anything
is sent (`crownsafe.storage._async_stream`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO, cast

import pytest

from crownsafe.errors import BlobConflictError, UploadLengthMismatchError
from crownsafe.storage.base import StorageClient
from harness.fixtures.async_bridge import BlockingStorageClient

from .helpers import KIB, MIB, NonSeekableStream, pattern_chunks, payload, sha256_of

pytestmark = pytest.mark.contract


def _stream(size: int, seed: int) -> NonSeekableStream:
    return NonSeekableStream(pattern_chunks(size, seed=seed, chunk_size=64 * KIB))


def _bare(client: StorageClient) -> Any:
    return getattr(client, "inner", client)


def _s3_emitters(client: StorageClient) -> list[Any]:
    """The botocore event emitters of every SDK client the crownsafe client sends with."""
    bare = _bare(client)
    if isinstance(client, BlockingStorageClient):  # the async client, made on first use
        client._loop.run(bare._sdk_client())
        return [bare._client.meta.events]
    return [bare._client.meta.events, bare._streaming_client().meta.events]


@contextmanager
def _s3_requests(client: StorageClient) -> Iterator[list[str]]:
    """The S3 operations sent meanwhile (by each of the client's SDK clients)."""
    sent: list[str] = []

    def count(request: Any, **_: Any) -> None:
        query = request.url.partition("?")[2]
        kind = "part" if "partNumber=" in query else query.split("=", 1)[0] or "object"
        sent.append(f"{request.method} {kind}")

    emitters = _s3_emitters(client)
    for events in emitters:
        events.register("before-send.s3", count, unique_id="contract-request-count")
    try:
        yield sent
    finally:
        for events in emitters:
            events.unregister("before-send.s3", unique_id="contract-request-count")


def _committed_blocks(target_services: Any, container: str, name: str) -> tuple[int, int]:
    """(committed, uncommitted) blocks of the Azure blob (0, n: it does not exist yet)."""
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(
        target_services.azure.connection_string, retry_total=0
    )
    with service:
        committed, uncommitted = service.get_blob_client(container, name).get_block_list("all")
    return len(committed), len(uncommitted)


@pytest.mark.parametrize("size", [KIB, 3 * MIB], ids=["1KiB", "3MiB"])
@pytest.mark.parametrize("overwrite", [False, True], ids=["new", "overwrite"])
def test_known_length_stream_stores_exact_bytes(
    storage_client: StorageClient,
    backend: str,
    storage_api: str,
    target_services: Any,
    size: int,
    overwrite: bool,
) -> None:
    """Exact bytes from a non-seekable stream with length, in one storage write request."""
    name = f"known/{size}.bin"
    stream = _stream(size, seed=size)
    if backend == "s3":
        with _s3_requests(storage_client) as sent:
            storage_client.upload_file(
                name, cast(BinaryIO, stream), "image/png", {"k": "v"}, overwrite, length=size
            )
        expected = ["POST uploads", "PUT part", "POST uploadId"] if overwrite else ["PUT object"]
        if storage_api == "async":
            expected = ["PUT object"]
        assert sent == expected, f"[s3] sent: {sent}"
    else:
        storage_client.upload_file(
            name, cast(BinaryIO, stream), "image/png", {"k": "v"}, overwrite, length=size
        )
        blocks = _committed_blocks(target_services, storage_client.container_name, name)
        assert blocks == ((0, 0) if storage_api == "async" else (1, 0)), blocks
    assert stream.bytes_read == size
    info = storage_client.head_object(name)
    assert (info.size, info.content_type, dict(info.metadata)) == (size, "image/png", {"k": "v"})
    assert sha256_of(storage_client.iter_blob_chunks(name)) == sha256_of(
        pattern_chunks(size, seed=size)
    )


def test_known_length_of_zero(storage_client: StorageClient) -> None:
    """length=0 with an empty stream stores an empty object."""
    storage_client.upload_file("known/zero.bin", cast(BinaryIO, _stream(0, 1)), length=0)
    assert storage_client.download_blob("known/zero.bin") == b""


@pytest.mark.parametrize(
    ("actual", "declared"),
    [(MIB, MIB + 1), (3 * MIB, 4 * MIB), (MIB + 1, MIB), (1, 0)],
    ids=["short-by-1", "short-3of4MiB", "long-by-1", "long-for-0"],
)
def test_length_mismatch_is_typed_and_stores_nothing(
    storage_client: StorageClient, backend: str, actual: int, declared: int
) -> None:
    """A stream shorter or longer than `length`: UploadLengthMismatchError, no object."""
    name = f"known/mismatch-{actual}-{declared}.bin"
    with pytest.raises(UploadLengthMismatchError) as caught:
        storage_client.upload_file(name, cast(BinaryIO, _stream(actual, 2)), length=declared)
    assert caught.value.backend == backend
    assert caught.value.blob_name == name
    assert not storage_client.blob_exists(name), f"[{backend}] a partial object was stored"


def test_length_mismatch_keeps_existing_object(storage_client: StorageClient) -> None:
    """A short stream over an existing object leaves the original in place."""
    original = payload(2048, seed=5)
    storage_client.upload_file("known/kept.bin", original)
    with pytest.raises(UploadLengthMismatchError):
        storage_client.upload_file("known/kept.bin", cast(BinaryIO, _stream(1000, 3)), length=4096)
    assert storage_client.download_blob("known/kept.bin") == original


def test_refused_overwrite_with_short_stream_keeps_original(storage_client: StorageClient) -> None:
    """overwrite=False over an existing object with a short stream: an error, the original
    intact (conflict or length mismatch, whichever the service finds first)."""
    original = payload(2048, seed=8)
    storage_client.upload_file("known/taken.bin", original)
    with pytest.raises((BlobConflictError, UploadLengthMismatchError)):
        storage_client.upload_file(
            "known/taken.bin", cast(BinaryIO, _stream(1000, 9)), overwrite=False, length=4096
        )
    assert storage_client.download_blob("known/taken.bin") == original


def test_known_length_overwrite_false_is_honoured(storage_client: StorageClient) -> None:
    """overwrite=False: a free name is created, a taken one raises BlobConflictError."""
    size = 3 * MIB
    storage_client.upload_file(
        "known/once.bin", cast(BinaryIO, _stream(size, 4)), overwrite=False, length=size
    )
    with pytest.raises(BlobConflictError):
        storage_client.upload_file(
            "known/once.bin", cast(BinaryIO, _stream(size, 6)), overwrite=False, length=size
        )
    assert sha256_of(storage_client.iter_blob_chunks("known/once.bin")) == sha256_of(
        pattern_chunks(size, seed=4)
    )


def test_length_of_bytes_is_checked(storage_client: StorageClient) -> None:
    """For bytes `length` is only checked: a wrong one is refused before any I/O."""
    with pytest.raises(UploadLengthMismatchError):
        storage_client.upload_file("known/bytes.bin", b"abc", length=4)
    storage_client.upload_file("known/bytes.bin", b"abc", length=3)
    assert storage_client.download_blob("known/bytes.bin") == b"abc"


def test_stream_error_surfaces_and_stores_nothing(storage_client: StorageClient) -> None:
    """An error raised by the stream mid-body is raised as such (not an SDK wrapper)."""

    class Broken(NonSeekableStream):
        def readinto(self, buffer: Any) -> int:
            if self.bytes_read >= MIB:
                raise RuntimeError("client went away")
            return super().readinto(buffer)

    broken = Broken(pattern_chunks(3 * MIB, seed=7, chunk_size=64 * KIB))
    with pytest.raises(RuntimeError, match="client went away"):
        storage_client.upload_file("known/broken.bin", cast(BinaryIO, broken), length=3 * MIB)
    assert not storage_client.blob_exists("known/broken.bin")
