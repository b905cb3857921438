"""Receive one multipart image upload and stream it into storage as it arrives.

The route authenticates first (a header-only dependency), then calls `stream_upload`,
which parses `request.stream()` with streaming-form-data. The `file` part's first bytes
decide its type (JPEG/PNG/WebP magic, never the name or Content-Type: 415 otherwise);
then the storage upload starts in a worker thread and is fed through a `StreamBridge`
(a file under SINGLE_PUT_BYTES is collected and sent in one request, a larger one is
streamed in blocks, so memory per upload stays at about one block).
The size limit is enforced while reading (413 as soon as it is passed, the rest of the
body is not read and the connection is closed); a declared Content-Length above the
limit is refused before reading anything. Whatever fails, the bridge is aborted, so the
storage upload never commits a partial object.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO, cast

import anyio
from starlette.requests import ClientDisconnect, Request
from streaming_form_data import StreamingFormDataParser
from streaming_form_data.parser import ParseFailedException
from streaming_form_data.targets import BaseTarget

from crownsafe.api._bridge import StreamBridge, UploadAbortedError
from crownsafe.api.errors import ApiError
from crownsafe.storage.base import StorageClient
from crownsafe.visual.sniff import SNIFF_BYTES, ImageKind, sniff_image_type

__all__ = ["FORM_OVERHEAD_BYTES", "StoredUpload", "UploadAbortedError", "stream_upload"]

FORM_OVERHEAD_BYTES = 64 * 1024
"""Room for the multipart framing and small fields on top of the file size limit."""
_CLOSE = {"Connection": "close"}
SINGLE_PUT_BYTES = 2 * 1024 * 1024
"""Files smaller than this are sent in one request; larger ones stream in blocks."""


@dataclass(frozen=True)
class StoredUpload:
    blob_name: str
    kind: ImageKind
    size: int


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


def _too_large(limit: int) -> ApiError:
    return ApiError(413, f"the image is larger than the limit of {limit} bytes", headers=_CLOSE)


def _check_declared_length(request: Request, limit: int) -> None:
    declared = request.headers.get("content-length")
    if declared is None:
        return
    try:
        length = int(declared)
    except ValueError:
        raise ApiError(400, "Content-Length is not a number", headers=_CLOSE) from None
    if length > limit + FORM_OVERHEAD_BYTES:
        raise _too_large(limit)


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
) -> StoredUpload:
    """Stream the request's `file` part into `storage`; raise `ApiError` on bad input."""
    _check_declared_length(request, limit)
    target = _FileTarget()
    parser = _parser(request, target)
    head = bytearray()
    size = 0
    total = 0
    kind: ImageKind | None = None
    blob_name = ""
    bridge: StreamBridge | None = None
    try:
        async with anyio.create_task_group() as group:
            bridge = StreamBridge()
            uploading = False

            async def upload(name: str, content_type: str) -> None:
                assert bridge is not None
                call = functools.partial(_store, storage, name, bridge, content_type)
                await anyio.to_thread.run_sync(call)

            async def start(data: bytes) -> None:
                nonlocal kind, blob_name, uploading
                kind = sniff_image_type(data)
                if kind is None:
                    raise ApiError(415, "the file is not a JPEG, PNG or WebP image")
                blob_name = name_for(kind)
                group.start_soon(upload, blob_name, kind.content_type)
                uploading = True
                await bridge.feed(data)

            try:
                try:
                    async for chunk in request.stream():
                        total += len(chunk)
                        if total > limit + FORM_OVERHEAD_BYTES:
                            raise _too_large(limit)
                        parser.data_received(chunk)
                        for piece in target.take():
                            size += len(piece)
                            on_bytes(len(piece))
                            if size > limit:
                                raise _too_large(limit)
                            if uploading:
                                await bridge.feed(piece)
                            else:
                                head += piece
                                if len(head) >= SNIFF_BYTES:
                                    await start(bytes(head))
                        if target.finished:
                            break
                except ParseFailedException:
                    raise ApiError(422, "the multipart body is malformed") from None
                except ClientDisconnect:
                    raise ApiError(
                        400, "the client went away before the body was complete"
                    ) from None
                if not target.started:
                    raise ApiError(422, "the form has no part named 'file'")
                if not target.finished:
                    raise ApiError(422, "the multipart body ended before the file part did")
                if not uploading:
                    await start(bytes(head))
                await bridge.finish()
            except BaseException as exc:
                bridge.abort(str(exc) or type(exc).__name__)
                if isinstance(exc, ApiError):
                    group.cancel_scope.cancel()
                raise
    except BaseExceptionGroup as errors:
        raise _primary(errors) from None
    finally:
        if bridge is not None:
            bridge.close()
    assert kind is not None
    return StoredUpload(blob_name, kind, size)


class _Chained:
    """A non-seekable reader: `head` first, then the rest of the bridge."""

    def __init__(self, head: bytes, rest: StreamBridge) -> None:
        self._head: memoryview | None = memoryview(head) if head else None
        self._rest = rest

    def _take_head(self, size: int) -> memoryview:
        assert self._head is not None
        taken = self._head if size < 0 else self._head[:size]
        self._head = self._head[len(taken) :] or None  # None: the head's bytes can go
        return taken

    def read(self, size: int | None = -1, /) -> bytes:
        if self._head is None:
            return self._rest.read(size)
        if size is None or size < 0:
            return bytes(self._take_head(-1)) + self._rest.read(-1)
        return bytes(self._take_head(size))

    def readinto(self, buffer: Any, /) -> int:
        if self._head is None:
            return self._rest.readinto(buffer)
        target = memoryview(buffer).cast("B")
        taken = self._take_head(len(target))
        target[: len(taken)] = taken
        return len(taken)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False


def _store(storage: StorageClient, name: str, bridge: StreamBridge, content_type: str) -> None:
    """Runs in a worker thread. A file that ends within SINGLE_PUT_BYTES goes up as bytes
    (one request, and retryable by the resilience layer); a longer one is streamed."""
    head = bridge.read(SINGLE_PUT_BYTES)
    if len(head) < SINGLE_PUT_BYTES:
        storage.upload_file(name, head, content_type, None, False)
        return
    body = cast(BinaryIO, _Chained(head, bridge))
    del head  # the reader holds the head only until it has been read
    storage.upload_file(name, body, content_type, None, False)


def _leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in _leaves(inner)]
    return [error]


def _primary(errors: BaseExceptionGroup[BaseException]) -> BaseException:
    """The error that explains the failure: ours first, then storage's, never the abort echo."""
    leaves = _leaves(errors)
    for wanted in (ApiError, Exception):
        for leaf in leaves:
            if isinstance(leaf, wanted) and not isinstance(leaf, UploadAbortedError):
                return leaf
    return leaves[0]
