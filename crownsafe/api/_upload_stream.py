"""Receive one multipart image upload and stream it into storage as it arrives.

The route authenticates first (a header-only dependency), then calls `stream_upload`,
which parses `request.stream()` with streaming-form-data. The `file` part's first bytes
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

from starlette.requests import ClientDisconnect, Request
from streaming_form_data import StreamingFormDataParser
from streaming_form_data.parser import ParseFailedException
from streaming_form_data.targets import BaseTarget

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

__all__ = ["FORM_OVERHEAD_BYTES", "stream_upload"]

FORM_OVERHEAD_BYTES = 64 * 1024
"""Room for the multipart framing and small fields on top of the file size limit."""


class _FileTarget(BaseTarget):  # type: ignore[misc]
    """Collects the `file` part's bytes as they are parsed; the loop drains them."""

    def __init__(self) -> None:
        super().__init__()
        self.pending: list[bytes] = []
        self.started = False
        self.finished = False

    def on_start(self) -> None:
        self.started = True

    def on_data_received(self, chunk: bytes) -> None:
        self.pending.append(bytes(chunk))

    def on_finish(self) -> None:
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


def _parser(request: Request, target: _FileTarget) -> StreamingFormDataParser:
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise ApiError(415, "send the image as multipart/form-data in a part named 'file'")
    try:
        parser = StreamingFormDataParser(headers={"Content-Type": content_type})
    except ParseFailedException:
        raise ApiError(422, "the multipart Content-Type has no boundary") from None
    parser.register("file", target)
    return parser


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
                parser.data_received(chunk)
                for piece in target.take():
                    await upload.add(piece)
                if target.finished:
                    break
        except ParseFailedException:
            raise ApiError(422, "the multipart body is malformed") from None
        except ClientDisconnect:
            raise ApiError(400, "the client went away before the body was complete") from None
        if not target.started:
            raise ApiError(422, "the form has no part named 'file'")
        if not target.finished:
            raise ApiError(422, "the multipart body ended before the file part did")

    return await receive_upload(upload, receive)
