"""How `S3StorageClient` sends data: one PUT, or a multipart upload in bounded memory.

`Uploader` talks to an `UploadTransport` (the S3 requests), so the planning, the
concurrency bound and abort-on-failure are unit-tested without a server;
`crownsafe.storage.s3._transport.ClientUploadTransport` is that transport on the boto3
client `crownsafe.storage.s3` creates, and checks what the service stored (this module
imports neither boto3 nor botocore).

- bytes, paths and seekable streams up to `multipart_threshold` bytes: one PUT with the
  data itself as body (botocore streams a file);
- larger ones, and non-seekable streams longer than one part: create, then parts of
  `part_size` bytes with at most `max_concurrency` in flight, then complete. Parts of
  bytes, paths and seekable streams are views read on demand (nothing buffered); a part
  of a non-seekable stream is the pieces it gave (`_parts.piece_parts`: the API's
  request chunks, sent as they are), at most `max_concurrency` parts alive; with one in
  flight the calling thread sends them (no pool).
  Any failure aborts the upload, so no partial object ever becomes visible;
- `IfNoneMatch: "*"` (overwrite=False) goes on the PUT or on the complete request;
- a non-seekable stream with a known `length` up to `multipart_threshold`: ONE data
  request that streams the body as it is read (no part buffers), so it overlaps with
  producing the bytes (the API's raw upload). Exactly `length` bytes or
  `UploadLengthMismatchError`, and a body cut short must store nothing:
  - overwrite=False: one PutObject (`UploadTransport.put_stream`) sent aws-chunked with a
    CRC32 trailer (see `S3StorageClient._streaming_client`): a cut body never gets its
    last chunk and trailer, so the service stores nothing. Without trailers
    (S3_REQUEST_CHECKSUMS=when_required) as for an overwrite, with `If-None-Match: *` on
    the complete. A plain PutObject would not do: LocalStack stores a cut one (1.5 of a
    declared 3 MiB, connection closed: a 1.5 MiB object appeared within 1 s);
  - overwrite=True: create, one streamed part (`upload_part_stream`), complete. An
    aborted streamed PutObject over an existing object left LocalStack's copy broken
    (its GET answered 2048 bytes declared, 0 sent, for good); an upload that is never
    completed does not touch the existing object on any service. The transport checks
    the stored part before the complete, so a service that stored other bytes (the
    aws-chunked framing as data) fails the upload with `StorageIntegrityError` and the
    old object stays as it was.
  Longer streams go multipart in parts of pieces as above, checked the same way;
- a non-seekable stream that fails transiently after bytes were read from it raises
  `NonRetryableUploadError`: retrying would send a partial body. A seekable stream is
  put back at its start position on failure, so the caller can retry.
"""

from __future__ import annotations

import contextvars
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager
from dataclasses import dataclass
from itertools import chain
from typing import Any, BinaryIO, Protocol, cast

from crownsafe.errors import (
    NonRetryableUploadError,
    StorageError,
    StorageThrottledError,
    StorageUnavailableError,
)
from crownsafe.storage._guards import ExactLengthReader, check_length, surface_failure
from crownsafe.storage._pieces import Piece, read_pieces, total_length
from crownsafe.storage.base import UploadData
from crownsafe.storage.s3._parts import (
    MAX_PARTS,
    PartBody,
    bytes_parts,
    piece_parts,
    plan_part_size,
    region_parts,
    stream_reader,
)

__all__ = ["SdkGuard", "UploadLimits", "UploadTransport", "Uploader"]

log = logging.getLogger(__name__)

MiB = 1024 * 1024
SdkGuard = Callable[[str, str | None], AbstractContextManager[None]]
Body = bytes | BinaryIO | PartBody


class UploadTransport(Protocol):
    """The S3 requests an upload needs; each raises a typed `StorageError` on failure.

    `trailer_checksums`: streamed bodies end with a CRC32 trailer, so a body cut short is
    never stored by a service that understands it (else a streamed upload always goes
    through a multipart upload, which a cut part never completes).
    """

    trailer_checksums: bool

    def put(
        self, key: str, body: Body, extra: Mapping[str, Any], content_length: int | None = None
    ) -> None: ...

    def put_stream(
        self, key: str, body: BinaryIO, extra: Mapping[str, Any], content_length: int
    ) -> None:
        """One PUT of exactly `content_length` bytes read from a non-seekable `body` while
        the request is sent (nothing buffered; a CRC32 trailer ends the body)."""
        ...

    def upload_part_stream(
        self, key: str, upload_id: str, number: int, body: BinaryIO, content_length: int
    ) -> dict[str, Any]:
        """Send one part of exactly `content_length` bytes read from a non-seekable `body`
        while the request is sent (nothing buffered; a CRC32 trailer ends the body)."""
        ...

    def create_multipart(
        self, key: str, extra: Mapping[str, Any], *, streamed: bool = False
    ) -> str:
        """Create a multipart upload; `streamed`: its one part comes by `upload_part_stream`
        (created with that part's checksum algorithm, if the transport sends one)."""
        ...

    def upload_part(self, key: str, upload_id: str, number: int, body: PartBody) -> dict[str, Any]:
        """Send one part; return its entry for the complete request (PartNumber, ETag...)."""
        ...

    def complete_multipart(
        self, key: str, upload_id: str, parts: list[dict[str, Any]], if_none_match: str | None
    ) -> None: ...

    def abort_multipart(self, key: str, upload_id: str) -> None:
        """Abort the upload; never raises (a failure is logged)."""
        ...


@dataclass(frozen=True)
class UploadLimits:
    multipart_threshold: int = 16 * MiB
    part_size: int = 8 * MiB
    max_concurrency: int = 4

    def __post_init__(self) -> None:
        plan_part_size(None, self.part_size)
        if self.max_concurrency < 1:
            raise ValueError(f"max_concurrency must be >= 1, got {self.max_concurrency}")
        if self.multipart_threshold < 0:
            raise ValueError(f"multipart_threshold must be >= 0, got {self.multipart_threshold}")


class Uploader:
    """Sends one object's data through a transport within `UploadLimits`."""

    def __init__(self, transport: UploadTransport, limits: UploadLimits) -> None:
        self._transport = transport
        self._limits = limits

    def upload(
        self, key: str, data: UploadData, extra: Mapping[str, Any], length: int | None = None
    ) -> None:
        """Upload `data` (bytes, a path or a binary stream); `extra` holds the PUT's fields.

        `length`, when given, is the number of bytes `data` holds (from a stream's current
        position): a non-seekable stream is then sent in one streamed PUT (up to
        `multipart_threshold`); for other data it is checked before anything is sent.
        """
        if length is not None and length < 0:
            raise ValueError(f"length must be >= 0, got {length}")
        if isinstance(data, bytes | bytearray | memoryview):
            view = memoryview(data).cast("B")
            check_length("s3", key, len(view), length)
            if len(view) <= self._limits.multipart_threshold:
                self._transport.put(key, data if isinstance(data, bytes) else bytes(view), extra)
            else:
                part_size = plan_part_size(len(view), self._limits.part_size)
                self._multipart(key, bytes_parts(view, part_size), extra)
        elif isinstance(data, str | os.PathLike):
            with open(data, "rb") as file:
                size = os.fstat(file.fileno()).st_size
                check_length("s3", key, size, length)
                self._upload_seekable(key, file, 0, size, extra)
        elif callable(getattr(data, "read", None)):
            start = _position(data)
            if start is None:
                self._upload_unseekable(key, data, extra, length)
                return
            size = data.seek(0, os.SEEK_END) - start
            data.seek(start)
            check_length("s3", key, size, length)
            try:
                self._upload_seekable(key, data, start, size, extra)
            except BaseException:
                data.seek(start)
                raise
        else:
            raise TypeError(
                f"upload_file expects bytes, a path or a binary stream, got {type(data).__name__}"
            )

    def _upload_seekable(
        self, key: str, stream: BinaryIO, start: int, size: int, extra: Mapping[str, Any]
    ) -> None:
        if size <= self._limits.multipart_threshold:
            self._transport.put(key, stream, extra, content_length=size)
            return
        part_size = plan_part_size(size, self._limits.part_size)
        self._multipart(key, region_parts(stream_reader(stream, start), size, part_size), extra)

    def _upload_unseekable(
        self, key: str, stream: BinaryIO, extra: Mapping[str, Any], length: int | None = None
    ) -> None:
        exact = None
        if length is not None:
            exact = ExactLengthReader(stream, length, backend="s3", blob_name=key)
        counter = _CountingReader(cast(BinaryIO, exact) if exact is not None else stream)
        try:
            with surface_failure(exact):
                self._send_unseekable(key, counter, extra, exact)
        except (StorageThrottledError, StorageUnavailableError) as exc:
            if not counter.consumed:
                raise
            raise NonRetryableUploadError(
                f"upload from a non-seekable stream failed after {counter.consumed} bytes were "
                f"read from it, so it cannot be retried: {exc.reason}",
                backend=exc.backend,
                operation="upload_file",
                blob_name=key,
                status=exc.status,
                error_code=exc.error_code,
                request_id=exc.request_id,
            ) from exc

    def _send_unseekable(
        self,
        key: str,
        counter: _CountingReader,
        extra: Mapping[str, Any],
        exact: ExactLengthReader | None,
    ) -> None:
        if exact is not None and exact.length <= self._limits.multipart_threshold:
            if exact.length == 0:
                exact.check_empty()
                self._transport.put(key, b"", extra)
            else:
                self._streamed(key, cast(BinaryIO, counter), exact.length, extra)
            return
        part_size = self._limits.part_size
        parts = piece_parts(counter, part_size)
        first = next(parts, None)
        if first is None:
            self._transport.put(key, b"", extra)
        elif len(first) < part_size and len(first) <= self._limits.multipart_threshold:
            self._transport.put(key, first, extra, content_length=len(first))
        else:
            self._multipart(key, chain([first], parts), extra)

    def _streamed(self, key: str, body: BinaryIO, length: int, extra: Mapping[str, Any]) -> None:
        """One streamed PUT for a new object (with a trailer); else one streamed part."""
        if_none_match = extra.get("IfNoneMatch")
        if if_none_match and self._transport.trailer_checksums:
            self._transport.put_stream(key, body, extra, length)
            return
        fields = {k: v for k, v in extra.items() if k != "IfNoneMatch"}
        upload_id = self._transport.create_multipart(key, fields, streamed=True)
        try:
            part = self._transport.upload_part_stream(key, upload_id, 1, body, length)
            self._transport.complete_multipart(key, upload_id, [part], if_none_match)
        except BaseException:
            self._transport.abort_multipart(key, upload_id)
            raise

    def _multipart(self, key: str, parts: Iterable[PartBody], extra: Mapping[str, Any]) -> None:
        if_none_match = extra.get("IfNoneMatch")
        upload_id = self._transport.create_multipart(
            key, {k: v for k, v in extra.items() if k != "IfNoneMatch"}
        )
        try:
            completed = self._send_parts(key, upload_id, parts)
            completed.sort(key=lambda part: int(part["PartNumber"]))
            self._transport.complete_multipart(key, upload_id, completed, if_none_match)
        except BaseException:
            self._transport.abort_multipart(key, upload_id)
            raise

    def _send_parts(
        self, key: str, upload_id: str, parts: Iterable[PartBody]
    ) -> list[dict[str, Any]]:
        """Upload parts; the next part is taken only when fewer than the limit are in flight.
        With one in flight the calling thread sends them (no pool, no hand-over per part)."""
        limit = self._limits.max_concurrency
        if limit == 1:
            return [
                self._send_part(key, upload_id, number, self._checked(key, number, body))
                for number, body in enumerate(parts, start=1)
            ]
        completed: list[dict[str, Any]] = []
        in_flight: set[Future[dict[str, Any]]] = set()
        source = iter(parts)
        with ThreadPoolExecutor(limit, "crownsafe-s3-part") as pool:
            try:
                for number in range(1, MAX_PARTS + 2):
                    while len(in_flight) >= limit:
                        done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                        completed.extend(future.result() for future in done)
                    body = next(source, None)
                    if body is None:
                        break
                    self._checked(key, number, body)
                    context = contextvars.copy_context()  # carries the correlation id
                    in_flight.add(
                        pool.submit(context.run, self._send_part, key, upload_id, number, body)
                    )
                    del body
                completed.extend(future.result() for future in wait(in_flight).done)
            except BaseException:
                for future in in_flight:
                    future.cancel()
                raise
        return completed

    def _checked(self, key: str, number: int, body: PartBody) -> PartBody:
        """`body`, unless it would be part `number` > MAX_PARTS (then it is dropped)."""
        if number > MAX_PARTS:
            body.release()
            raise StorageError(
                f"the data is longer than {MAX_PARTS} parts of {self._limits.part_size} bytes",
                backend="s3",
                operation="upload_file",
                blob_name=key,
                hint="pass a larger part_size to S3StorageClient",
            )
        return body

    def _send_part(self, key: str, upload_id: str, number: int, body: PartBody) -> dict[str, Any]:
        try:
            return self._transport.upload_part(key, upload_id, number, body)
        finally:
            body.release()


def _position(stream: BinaryIO) -> int | None:
    """The stream's position if it can seek, else None."""
    try:
        if not stream.seekable():
            return None
        return stream.tell()
    except (AttributeError, OSError, ValueError):
        return None


class _CountingReader:
    """Reads from a stream and counts the bytes it consumed."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._readinto = getattr(stream, "readinto", None)
        self.consumed = 0

    def read(self, size: int = -1, /) -> bytes:
        data = self._stream.read(size) or b""
        self.consumed += len(data)
        return data

    def read1(self, size: int = -1, /) -> bytes:
        data = getattr(self._stream, "read1", self._stream.read)(size) or b""
        self.consumed += len(data)
        return data

    def read_pieces(self, size: int, /) -> list[Piece]:
        pieces = read_pieces(self._stream, size)
        self.consumed += total_length(pieces)
        return pieces

    def readinto(self, buffer: memoryview, /) -> int | None:
        if self._readinto is None:
            data = self.read(len(buffer))
            buffer[: len(data)] = data
            return len(data)
        count: int | None = self._readinto(buffer)
        self.consumed += count or 0
        return count
