"""Unit tests of the S3 upload planning (`Uploader`, part views) against a recording fake
transport: which requests, which part sizes, how many in flight, abort on failure."""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from crownsafe.correlation import correlation_scope, get_correlation_id
from crownsafe.errors import (
    BlobConflictError,
    NonRetryableUploadError,
    StorageError,
    StorageUnavailableError,
)
from crownsafe.storage.s3 import _upload as s3_upload
from crownsafe.storage.s3._parts import PartBody, bytes_parts, piece_parts, read_exact
from crownsafe.storage.s3._upload import Uploader, UploadLimits

MiB = 1024 * 1024
PART = 5 * MiB
LIMITS = UploadLimits(multipart_threshold=6 * MiB, part_size=PART, max_concurrency=3)


class FakeTransport:
    """Records requests; reads every part body the way botocore does (twice, seeking back)."""

    def __init__(self, fail_part: int | None = None, error: StorageError | None = None) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.parts: dict[int, bytes] = {}
        self.put_bodies: list[bytes] = []
        self.fail_part = fail_part
        self.error = error or StorageUnavailableError("boom", backend="s3", status=503)
        self.fail_put = False
        self.lock = threading.Lock()
        self.active = 0
        self.max_active = 0
        self.correlation_ids: set[str | None] = set()
        self.barrier: threading.Barrier | None = None
        self.piece_parts = 0

    def put(
        self, key: str, body: Any, extra: Mapping[str, Any], content_length: int | None = None
    ) -> None:
        self.calls.append(("put", key, dict(extra), content_length))
        self.put_bodies.append(body if isinstance(body, bytes) else body.read())
        if self.fail_put:
            raise self.error

    def create_multipart(self, key: str, extra: Mapping[str, Any]) -> str:
        self.calls.append(("create", key, dict(extra)))
        return "UP1"

    def upload_part(self, key: str, upload_id: str, number: int, body: PartBody) -> dict[str, Any]:
        with self.lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            self.correlation_ids.add(get_correlation_id())
            if body.pieces is not None:
                self.piece_parts += 1
            if self.barrier is not None and number <= self.barrier.parties:
                self.barrier.wait(timeout=30)
            first = body.read()
            body.seek(0)
            assert body.read() == first and len(first) == len(body)
            if number == self.fail_part:
                raise self.error
            with self.lock:
                self.parts[number] = first
            return {"PartNumber": number, "ETag": f'"e{number}"'}
        finally:
            with self.lock:
                self.active -= 1

    def complete_multipart(
        self, key: str, upload_id: str, parts: list[dict[str, Any]], if_none_match: str | None
    ) -> None:
        self.calls.append(("complete", key, [p["PartNumber"] for p in parts], if_none_match))

    def abort_multipart(self, key: str, upload_id: str) -> None:
        self.calls.append(("abort", key, upload_id))

    def kinds(self) -> list[str]:
        return [call[0] for call in self.calls]

    def joined(self) -> bytes:
        return b"".join(self.parts[n] for n in sorted(self.parts))


class Pipe(io.RawIOBase):
    """Non-seekable, short reads (at most 1 MB at a time), like a socket or pipe."""

    def __init__(self, data: bytes, fail_at: int | None = None) -> None:
        self._data = data
        self._position = 0
        self._fail_at = fail_at

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._fail_at is not None and self._position >= self._fail_at:
            raise OSError("pipe broke")
        count = min(len(buffer), 1_000_000, len(self._data) - self._position)
        buffer[:count] = self._data[self._position : self._position + count]
        self._position += count
        return count


def upload(data: Any, transport: FakeTransport, extra: dict[str, Any] | None = None) -> None:
    Uploader(transport, LIMITS).upload("k", data, extra or {"ContentType": "x/y"})


def test_small_bytes_are_one_put() -> None:
    transport = FakeTransport()
    upload(b"abc", transport, {"ContentType": "x/y", "IfNoneMatch": "*"})
    assert transport.calls == [("put", "k", {"ContentType": "x/y", "IfNoneMatch": "*"}, None)]


def test_large_bytes_go_multipart_in_part_size_pieces_with_condition_on_complete() -> None:
    data = os.urandom(2 * PART + 123)
    transport = FakeTransport()
    upload(data, transport, {"ContentType": "x/y", "IfNoneMatch": "*"})
    assert transport.kinds() == ["create", "complete"]
    assert transport.calls[0] == ("create", "k", {"ContentType": "x/y"})
    assert transport.calls[1] == ("complete", "k", [1, 2, 3], "*")
    assert [len(transport.parts[n]) for n in (1, 2, 3)] == [PART, PART, 123]
    assert transport.joined() == data


def test_path_up_to_threshold_is_one_put_with_its_length(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"z" * (6 * MiB))
    transport = FakeTransport()
    upload(path, transport)
    assert transport.calls == [("put", "k", {"ContentType": "x/y"}, 6 * MiB)]
    assert transport.put_bodies == [b"z" * (6 * MiB)]


def test_large_path_parts_are_read_from_the_file(tmp_path: Path) -> None:
    data = os.urandom(3 * PART + 1)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    transport = FakeTransport()
    upload(str(path), transport)
    assert transport.kinds() == ["create", "complete"]
    assert transport.joined() == data


def test_seekable_stream_uploads_from_its_position_and_is_rewound_on_failure() -> None:
    data = os.urandom(2 * PART)
    stream = io.BytesIO(b"HEAD" + data)
    stream.seek(4)
    transport = FakeTransport()
    upload(stream, transport)
    assert transport.joined() == data
    stream.seek(4)
    failing = FakeTransport(fail_part=2)
    with pytest.raises(StorageUnavailableError):
        upload(stream, failing)
    assert stream.tell() == 4
    assert failing.kinds() == ["create", "abort"]


def test_small_non_seekable_stream_is_one_put() -> None:
    transport = FakeTransport()
    upload(Pipe(b"hello"), transport)
    assert transport.kinds() == ["put"] and transport.put_bodies == [b"hello"]
    empty = FakeTransport()
    upload(Pipe(b""), empty)
    assert empty.put_bodies == [b""]


def test_non_seekable_stream_of_unknown_length_goes_multipart() -> None:
    data = os.urandom(4 * PART + 7)
    transport = FakeTransport()
    upload(Pipe(data), transport)
    assert transport.kinds() == ["create", "complete"]
    assert transport.joined() == data
    exact = FakeTransport()
    upload(Pipe(data[:PART]), exact)
    assert exact.kinds() == ["create", "complete"] and exact.joined() == data[:PART]


def test_at_most_max_concurrency_parts_in_flight_each_holding_its_pieces() -> None:
    transport = FakeTransport()
    transport.barrier = threading.Barrier(LIMITS.max_concurrency)  # first parts meet here
    data = os.urandom(5 * PART)
    upload(Pipe(data), transport)
    assert transport.max_active == LIMITS.max_concurrency
    assert transport.piece_parts == 5
    assert transport.joined() == data


class Chunks:
    """A non-seekable stream that hands out its chunks themselves (`read_pieces`), like the
    API's StreamBridge; records how many bytes were asked for."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = list(chunks)
        self.asked = 0

    def read(self, size: int = -1) -> bytes:
        raise AssertionError("parts are read as pieces, never joined by read()")

    def read_pieces(self, size: int) -> list[bytes | memoryview]:
        self.asked += size
        taken: list[bytes | memoryview] = []
        while size > 0 and self.chunks:
            chunk = self.chunks.pop(0)
            if len(chunk) > size:
                self.chunks.insert(0, chunk[size:])
                chunk = chunk[:size]
            taken.append(chunk)
            size -= len(chunk)
        return taken


def test_piece_parts_hold_the_streams_own_chunks_and_read_one_part_at_a_time() -> None:
    chunks = [os.urandom(400) for _ in range(6)]
    stream = Chunks(chunks)
    parts = piece_parts(stream, 1000)
    first = next(parts)
    assert stream.asked == 1000  # the next part is not read before it is asked for
    assert first.pieces is not None and first.pieces[0] is chunks[0]
    assert first.pieces[1] is chunks[1] and len(first) == 1000
    assert first.read() == b"".join(chunks)[:1000]  # a seekable view when botocore needs one
    taken = first.take_pieces()  # a streamed part: the body alone holds the pieces
    assert first.pieces == [] and len(taken) == 1000 and next(iter(taken)) is chunks[0]
    first.release()
    assert first.pieces is None
    with pytest.raises(ValueError):
        next(bytes_parts(memoryview(b"abc"), 5)).take_pieces()
    rest = list(parts)
    assert [len(part) for part in rest] == [1000, 400]
    assert b"".join(part.read() for part in rest) == b"".join(chunks)[1000:]


def test_non_seekable_stream_parts_are_read_as_pieces_without_read() -> None:
    data = os.urandom(2 * PART + 5)
    transport = FakeTransport()
    upload(Chunks([data[i : i + 65536] for i in range(0, len(data), 65536)]), transport)
    assert transport.kinds() == ["create", "complete"]
    assert transport.piece_parts == 3 and transport.joined() == data


def test_failed_part_aborts_and_never_completes() -> None:
    transport = FakeTransport(fail_part=2)
    with pytest.raises(StorageUnavailableError):
        upload(os.urandom(3 * PART), transport)
    assert transport.kinds() == ["create", "abort"]


def test_broken_stream_aborts_the_upload() -> None:
    transport = FakeTransport()
    with pytest.raises(OSError, match="pipe broke"):
        upload(Pipe(os.urandom(4 * PART), fail_at=2 * PART), transport)
    assert transport.kinds() == ["create", "abort"]


def test_non_seekable_transient_failure_after_reading_is_non_retryable() -> None:
    error = StorageUnavailableError(
        "reset", backend="s3", status=503, error_code="SlowDown", request_id="R1"
    )
    transport = FakeTransport(fail_part=2, error=error)
    with pytest.raises(NonRetryableUploadError) as raised:
        upload(Pipe(os.urandom(3 * PART)), transport)
    assert (raised.value.status, raised.value.error_code, raised.value.request_id) == (
        503,
        "SlowDown",
        "R1",
    )
    assert raised.value.__cause__ is error
    small = FakeTransport(error=error)
    small.fail_put = True
    with pytest.raises(NonRetryableUploadError):
        upload(Pipe(b"abc"), small)


def test_non_seekable_conflict_stays_a_conflict_and_empty_stream_stays_retryable() -> None:
    conflict = FakeTransport(error=BlobConflictError("exists", backend="s3", status=412))
    conflict.fail_put = True
    with pytest.raises(BlobConflictError):
        upload(Pipe(b"abc"), conflict)
    empty = FakeTransport()
    empty.fail_put = True
    with pytest.raises(StorageUnavailableError):
        upload(Pipe(b""), empty)


def test_correlation_id_reaches_the_part_threads() -> None:
    transport = FakeTransport()
    with correlation_scope("cid-7"):
        upload(os.urandom(3 * PART), transport)
    assert transport.correlation_ids == {"cid-7"}


def test_too_many_parts_is_a_clear_error_and_aborts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(s3_upload, "MAX_PARTS", 2)
    transport = FakeTransport()
    with pytest.raises(StorageError, match="longer than 2 parts"):
        upload(Pipe(os.urandom(3 * PART)), transport)
    assert transport.kinds()[-1] == "abort"


def test_unsupported_data_type() -> None:
    with pytest.raises(TypeError, match="bytes, a path or a binary stream"):
        upload(12345, FakeTransport())


def test_limits_are_validated() -> None:
    with pytest.raises(ValueError):
        UploadLimits(max_concurrency=0)
    with pytest.raises(ValueError):
        UploadLimits(part_size=MiB)
    with pytest.raises(ValueError):
        UploadLimits(multipart_threshold=-1)


def test_part_body_is_a_seekable_view() -> None:
    (first, second) = list(bytes_parts(memoryview(b"0123456789"), 6))
    assert (len(first), len(second)) == (6, 4)
    assert first.read(2) == b"01" and first.tell() == 2
    assert first.read() == b"2345" and first.read() == b""
    assert first.seek(-1, os.SEEK_END) == 5 and first.read(10) == b"5"
    first.seek(0)
    assert first.read(-1) == b"012345"
    assert second.read() == b"6789"
    with pytest.raises(ValueError):
        second.seek(-1)


def test_read_exact_collects_short_reads() -> None:
    pipe = Pipe(b"x" * 2_500_000)
    assert len(read_exact(pipe, 2_400_000)) == 2_400_000
    assert len(read_exact(pipe, 2_400_000)) == 100_000
    assert read_exact(pipe, 10) == b""
