"""Byte-exact round trips: sizes from 0 B to 64 MiB, every input kind, every output path."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any, BinaryIO, cast

import pytest

from crownsafe.storage.base import StorageClient

from .helpers import (
    KIB,
    MIB,
    NonSeekableStream,
    pattern_chunks,
    payload,
    sha256_file,
    sha256_of,
)

pytestmark = pytest.mark.contract


def _assert_round_trip(client: StorageClient, name: str, data: bytes) -> None:
    client.upload_file(name, data)
    got = client.download_blob(name)
    assert len(got) == len(data), f"[{client.backend}] size {len(got)} != {len(data)}"
    assert got == data, f"[{client.backend}] content differs for {len(data)} bytes"
    assert client.head_object(name).size == len(data)


def _committed_blocks(target_services: Any, container: str, name: str) -> int:
    """How many blocks the Azure blob was committed from (0 for a single Put Blob)."""
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(
        target_services.azure.connection_string, retry_total=0
    )
    with service:
        committed, _uncommitted = service.get_blob_client(container, name).get_block_list(
            "committed"
        )
    return len(committed)


def test_empty_blob_round_trips(storage_client: StorageClient) -> None:
    """A 0-byte blob uploads and downloads as exactly 0 bytes."""
    _assert_round_trip(storage_client, "empty.bin", b"")


def test_one_byte_round_trips(storage_client: StorageClient) -> None:
    """A 1-byte blob comes back byte-exact."""
    _assert_round_trip(storage_client, "one.bin", b"\x00")


def test_one_kib_round_trips(storage_client: StorageClient) -> None:
    """A 1 KiB blob comes back byte-exact."""
    _assert_round_trip(storage_client, "kib.bin", payload(KIB, seed=1))


def test_one_mib_round_trips(storage_client: StorageClient) -> None:
    """A 1 MiB blob comes back byte-exact."""
    _assert_round_trip(storage_client, "mib.bin", payload(MIB, seed=2))


def test_multi_block_stream_round_trips(
    storage_client: StorageClient, target_services: Any
) -> None:
    """20 MiB from a non-seekable stream goes multi-block/multipart and comes back intact."""
    size = 20 * MIB
    stream = NonSeekableStream(pattern_chunks(size, seed=3, chunk_size=MIB))
    storage_client.upload_file("multi/block.bin", cast(BinaryIO, stream))
    assert stream.bytes_read == size
    info = storage_client.head_object("multi/block.bin")
    assert info.size == size
    expected = sha256_of(pattern_chunks(size, seed=3))
    assert sha256_of(storage_client.iter_blob_chunks("multi/block.bin")) == expected
    if storage_client.backend == "s3":
        assert info.etag is not None and "-" in info.etag, (
            f"[s3] expected a multipart ETag ('<md5>-<parts>'), got {info.etag!r}"
        )
    else:
        blocks = _committed_blocks(
            target_services, storage_client.container_name, "multi/block.bin"
        )
        assert blocks > 1, f"[azure] expected a block list of several blocks, got {blocks}"


def test_64_mib_file_streams_round_trip(storage_client: StorageClient, tmp_path: Path) -> None:
    """A 64 MiB file uploads from its path and streams back with the same sha256."""
    source = tmp_path / "big.bin"
    size = 64 * MIB
    digest = hashlib.sha256()
    with source.open("wb") as out:
        for chunk in pattern_chunks(size, seed=4):
            digest.update(chunk)
            out.write(chunk)
    storage_client.upload_file("big/64mib.bin", source)
    assert storage_client.head_object("big/64mib.bin").size == size
    streamed = hashlib.sha256()
    total = 0
    for chunk in storage_client.iter_blob_chunks("big/64mib.bin", chunk_size=4 * MIB):
        assert len(chunk) <= 4 * MIB
        streamed.update(chunk)
        total += len(chunk)
    assert total == size
    assert streamed.hexdigest() == digest.hexdigest()


def test_upload_from_str_path(storage_client: StorageClient, tmp_path: Path) -> None:
    """A `str` argument is a file path: the file's bytes are stored, not the text."""
    source = tmp_path / "from-str.bin"
    data = payload(3 * KIB + 7, seed=5)
    source.write_bytes(data)
    storage_client.upload_file("inputs/str-path.bin", str(source))
    assert storage_client.download_blob("inputs/str-path.bin") == data


def test_upload_from_pathlike(storage_client: StorageClient, tmp_path: Path) -> None:
    """An os.PathLike argument uploads the file's bytes."""
    source = tmp_path / "from-path.bin"
    data = payload(5 * KIB, seed=6)
    source.write_bytes(data)
    storage_client.upload_file("inputs/pathlike.bin", source)
    assert storage_client.download_blob("inputs/pathlike.bin") == data


def test_upload_from_seekable_stream(storage_client: StorageClient, tmp_path: Path) -> None:
    """An open binary file (seekable stream) uploads its full content."""
    source = tmp_path / "stream.bin"
    data = payload(64 * KIB + 1, seed=7)
    source.write_bytes(data)
    with source.open("rb") as handle:
        storage_client.upload_file("inputs/stream.bin", handle)
    assert storage_client.download_blob("inputs/stream.bin") == data


def test_upload_from_small_non_seekable_stream(storage_client: StorageClient) -> None:
    """A small non-seekable stream (below the multi-block threshold) uploads intact."""
    data = payload(10 * KIB + 3, seed=8)
    pipe = NonSeekableStream([data[:4000], data[4000:]])
    storage_client.upload_file("inputs/pipe.bin", cast(BinaryIO, pipe))
    assert storage_client.download_blob("inputs/pipe.bin") == data


def test_upload_bytearray_and_memoryview(storage_client: StorageClient) -> None:
    """bytearray and memoryview inputs store the same bytes as bytes."""
    data = payload(2 * KIB, seed=9)
    storage_client.upload_file("inputs/bytearray.bin", bytearray(data))
    storage_client.upload_file("inputs/memoryview.bin", memoryview(data))
    assert storage_client.download_blob("inputs/bytearray.bin") == data
    assert storage_client.download_blob("inputs/memoryview.bin") == data


def test_download_to_file_object(storage_client: StorageClient) -> None:
    """download_to writes the blob into an open file and returns the byte count."""
    data = payload(300 * KIB, seed=10)
    storage_client.upload_file("out/file-object.bin", data)
    sink = io.BytesIO()
    written = storage_client.download_to("out/file-object.bin", sink)
    assert written == len(data)
    assert sink.getvalue() == data


def test_download_to_path(storage_client: StorageClient, tmp_path: Path) -> None:
    """download_to with a path creates the file with the blob's exact bytes."""
    data = payload(2 * MIB + 5, seed=11)
    storage_client.upload_file("out/path.bin", data)
    target = tmp_path / "downloaded.bin"
    written = storage_client.download_to("out/path.bin", target)
    assert written == len(data)
    assert sha256_file(target) == hashlib.sha256(data).hexdigest()


def test_iter_blob_chunks_respects_chunk_size(storage_client: StorageClient) -> None:
    """iter_blob_chunks yields chunks no larger than asked that join to the blob."""
    data = payload(100 * KIB + 1, seed=12)
    storage_client.upload_file("out/chunks.bin", data)
    chunks = list(storage_client.iter_blob_chunks("out/chunks.bin", chunk_size=16 * KIB))
    assert all(0 < len(chunk) <= 16 * KIB for chunk in chunks), [len(c) for c in chunks]
    assert len(chunks) >= 7
    assert b"".join(chunks) == data


def test_iter_blob_chunks_of_empty_blob(storage_client: StorageClient) -> None:
    """Streaming a 0-byte blob yields no data (and no error)."""
    storage_client.upload_file("out/empty.bin", b"")
    assert b"".join(storage_client.iter_blob_chunks("out/empty.bin")) == b""


def test_upload_returns_plain_blob_url(storage_client: StorageClient) -> None:
    """upload_file returns the blob's plain URL, the same as get_blob_url, with no secret."""
    url = storage_client.upload_file("urls/returned.txt", b"x")
    assert url == storage_client.get_blob_url("urls/returned.txt")
    assert "?" not in url, f"a plain URL carries no query (no SAS): {url!r}"
    assert url.endswith("/urls/returned.txt")
