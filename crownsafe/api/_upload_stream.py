"""Receive one multipart image upload and stream it into storage as it arrives.

The route authenticates first (a header-only dependency), then calls `stream_upload`,
which parses `request.stream()` with python-multipart (its callbacks give offsets into the
network chunk, so a chunk that is all file data goes on as it is: no copy; it also bounds
header count and size per part). The `file` part's first bytes
decide its type (JPEG/PNG/WebP magic, never the name or Content-Type: 415 otherwise).
The first SINGLE_PUT_BYTES are collected on the event loop: a file that ends within them
is sent in one request from one worker thread; at that size the storage upload starts in
a worker thread and the rest is fed through a `StreamBridge` (streamed in blocks, so
memory per upload stays at a few blocks).
The size limit is enforced while reading (413 as soon as it is passed, the rest of the
body is not read and the connection is closed); a declared Content-Length above the
limit is refused before reading anything. Whatever fails, the bridge is aborted, so the
storage upload never commits a partial object. The skeleton (collect, identify, stream,
abort) is `_upload_core`'s, shared with the raw-body receiver `_upload_raw`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from crownsafe.api._upload_core import (
    CLOSE,
    IncomingUpload,
    StoredUpload,
    receive_upload,
    too_large,
)
from crownsafe.api.errors import ApiError
from crownsafe.api.ratelimit_http import ByteQuota
from crownsafe.storage.base import StorageClient
from crownsafe.visual.sniff import ImageKind

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

__all__ = ["FORM_OVERHEAD_BYTES", "stream_upload"]

FORM_OVERHEAD_BYTES = 64 * 1024
"""Room for the multipart framing and small fields on top of the file size limit."""


class _FileTarget:
    """python-multipart's callbacks: collects the data of the first part named `file` as
    it is parsed (the loop drains it with `take`). Where a network chunk is all file data
    (every chunk but the file's first and last) the chunk itself is collected, not a copy.
    """

    def __init__(self) -> None:
        self.pending: list[bytes] = []
        self.started = False
        self.finished = False
        self._in_file = False
        self._field = bytearray()
        self._value = bytearray()
        self._disposition = b""

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def _part_begin(self) -> None:
        self._disposition = b""

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        if self._field.strip().lower() == b"content-disposition":
            self._disposition = bytes(self._value)
        self._field.clear()
        self._value.clear()

    def _headers_finished(self) -> None:
        _, params = parse_options_header(self._disposition)
        self._in_file = not self.started and params.get(b"name") == b"file"
        self.started = self.started or self._in_file

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file and end > start:
            whole = start == 0 and end == len(data) and type(data) is bytes
            self.pending.append(data if whole else bytes(data[start:end]))

    def _part_end(self) -> None:
        if self._in_file:
            self._in_file = False
            self.finished = True

    def take(self) -> list[bytes]:
        taken, self.pending = self.pending, []
        return taken


def _check_declared_length(request: Request, limit: int) -> None:
    declared = request.headers.get("content-length")
    if declared is None:
        return
    try:
        length = int(declared)
    except ValueError:
        raise ApiError(400, "Content-Length is not a number", headers=CLOSE) from None
    if length > limit + FORM_OVERHEAD_BYTES:
        raise too_large(limit)


def _parser(request: Request, target: _FileTarget) -> MultipartParser:
    media_type, params = parse_options_header(request.headers.get("content-type", ""))
    if media_type != b"multipart/form-data":
        raise ApiError(415, "send the image as multipart/form-data in a part named 'file'")
    boundary = params.get(b"boundary")
    if not boundary:
        raise ApiError(422, "the multipart Content-Type has no boundary")
    try:
        return MultipartParser(boundary, target.callbacks())
    except FormParserError:
        raise ApiError(422, "the multipart boundary is longer than 256 characters") from None


async def stream_upload(
    request: Request,
    storage: StorageClient,
    *,
    limit: int,
    name_for: Callable[[ImageKind], str],
    on_bytes: Callable[[int], None] = lambda n: None,
    on_stored: Callable[[StoredUpload], None] = lambda stored: None,
    quota: ByteQuota | None = None,
) -> StoredUpload:
    """Stream the request's `file` part into `storage`; raise `ApiError` on bad input.

    `on_stored(stored)` runs in the upload's worker thread right after the object was
    stored (one thread hop for blob + row + message instead of three); what it raises is
    raised from here.
    """
    _check_declared_length(request, limit)
    target = _FileTarget()
    parser = _parser(request, target)
    upload = IncomingUpload(
        storage, name_for, on_bytes, on_stored, max_size=limit,
        overflow=lambda: too_large(limit), quota=quota,
    )  # fmt: skip

    async def receive(upload: IncomingUpload) -> None:
        total = 0
        try:
            async for chunk in request.stream():
                total += len(chunk)
                if total > limit + FORM_OVERHEAD_BYTES:
                    raise too_large(limit)
                parser.write(chunk)
                for piece in target.take():
                    await upload.add(piece)
                if target.finished:
                    break
        except FormParserError:
            raise ApiError(422, "the multipart body is malformed") from None
        except ClientDisconnect:
            raise ApiError(400, "the client went away before the body was complete") from None
        if not target.started:
            raise ApiError(422, "the form has no part named 'file'")
        if not target.finished:
            raise ApiError(422, "the multipart body ended before the file part did")

    return await receive_upload(upload, receive)
