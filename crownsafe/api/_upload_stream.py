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
storage upload never commits a partial object.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO, cast

import anyio
from starlette.requests import ClientDisconnect, Request
from streaming_form_data import StreamingFormDataParser
from streaming_form_data.parser import ParseFailedException
from streaming_form_data.targets import BaseTarget

from crownsafe.api._bridge import StreamBridge, UploadAbortedError
from crownsafe.api.errors import ApiError
from crownsafe.storage.base import StorageClient
from crownsafe.visual.sniff import SNIFF_BYTES, ImageKind, sniff_image_type

__all__ = [
    "CLOSE",
    "FORM_OVERHEAD_BYTES",
    "StoredUpload",
    "UploadAbortedError",
    "abort_upload",
    "finish_upload",
    "identify",
    "primary_error",
    "stream_upload",
    "too_large",
]

FORM_OVERHEAD_BYTES = 64 * 1024
"""Room for the multipart framing and small fields on top of the file size limit."""
CLOSE = {"Connection": "close"}
"""Headers of an answer given before the body was read: the connection is not reused."""
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


def too_large(limit: int) -> ApiError:
    return ApiError(413, f"the image is larger than the limit of {limit} bytes", headers=CLOSE)


def identify(head: list[bytes]) -> ImageKind:
    """The image type of the first bytes (`head`): 415 when not JPEG, PNG or WebP."""
    kind = sniff_image_type(b"".join(head)[:SNIFF_BYTES])
    if kind is None:
        raise ApiError(415, "the file is not a JPEG, PNG or WebP image")
    return kind


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
) -> StoredUpload:
    """Stream the request's `file` part into `storage`; raise `ApiError` on bad input.

    `on_stored(stored)` runs in the upload's worker thread right after the object was
    stored (one thread hop for blob + row + message instead of three); what it raises is
    raised from here.
    """
    _check_declared_length(request, limit)
    target = _FileTarget()
    parser = _parser(request, target)
    head: list[bytes] = []
    size = 0
    total = 0
    kind: ImageKind | None = None
    blob_name = ""
    bridge: StreamBridge | None = None

    def identify_head() -> None:
        nonlocal kind, blob_name
        kind = identify(head)
        blob_name = name_for(kind)

    try:
        async with anyio.create_task_group() as group:
            try:
                try:
                    async for chunk in request.stream():
                        total += len(chunk)
                        if total > limit + FORM_OVERHEAD_BYTES:
                            raise too_large(limit)
                        parser.data_received(chunk)
                        for piece in target.take():
                            size += len(piece)
                            on_bytes(len(piece))
                            if size > limit:
                                raise too_large(limit)
                            if bridge is not None:
                                await bridge.feed(piece)
                                continue
                            head.append(piece)
                            if kind is None and size >= SNIFF_BYTES:
                                identify_head()
                            if size >= SINGLE_PUT_BYTES:
                                assert kind is not None
                                bridge = StreamBridge()
                                bridge.preload(head)  # the chunks themselves, not a copy
                                head = []
                                call = functools.partial(
                                    _stream, storage, blob_name, kind, bridge, on_stored
                                )
                                group.start_soon(anyio.to_thread.run_sync, call)
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
                if kind is None:
                    identify_head()
                assert kind is not None
                await finish_upload(storage, blob_name, kind, head, bridge, on_stored)
            except BaseException as exc:
                abort_upload(exc, bridge, group.cancel_scope)
                raise
    except BaseExceptionGroup as errors:
        raise primary_error(errors) from None
    finally:
        if bridge is not None:
            bridge.close()
    assert kind is not None
    return StoredUpload(blob_name, kind, size)


async def finish_upload(
    storage: StorageClient,
    name: str,
    kind: ImageKind,
    head: list[bytes],
    bridge: StreamBridge | None,
    on_stored: Callable[[StoredUpload], None],
) -> None:
    """The body is complete: let the streamed request end, or, when the file was small
    enough to be collected (`head`), send it in one request from a worker thread."""
    if bridge is not None:
        await bridge.finish()
        return
    data = b"".join(head)
    head.clear()  # the chunks go; only the joined copy lives on, in the call
    call = functools.partial(_put, storage, name, kind, data, on_stored)
    del data
    await anyio.to_thread.run_sync(call)


def abort_upload(exc: BaseException, bridge: StreamBridge | None, scope: anyio.CancelScope) -> None:
    """Whatever failed: the storage request is aborted (it never commits a partial
    object), and on our own error the task group's upload thread is cancelled too."""
    if bridge is not None:
        bridge.abort(str(exc) or type(exc).__name__)
    if isinstance(exc, ApiError):
        scope.cancel()


def _put(
    storage: StorageClient,
    name: str,
    kind: ImageKind,
    data: bytes,
    on_stored: Callable[[StoredUpload], None],
) -> None:
    """Runs in a worker thread: a file under SINGLE_PUT_BYTES, complete, goes up as bytes
    (one request, and retryable by the resilience layer)."""
    storage.upload_file(name, data, kind.content_type, None, False)
    on_stored(StoredUpload(name, kind, len(data)))


def _stream(
    storage: StorageClient,
    name: str,
    kind: ImageKind,
    bridge: StreamBridge,
    on_stored: Callable[[StoredUpload], None],
) -> None:
    """Runs in a worker thread: a longer file is streamed from the bridge (its first
    SINGLE_PUT_BYTES are already in it)."""
    storage.upload_file(name, cast(BinaryIO, bridge), kind.content_type, None, False)
    on_stored(StoredUpload(name, kind, bridge.consumed))


def _leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in _leaves(inner)]
    return [error]


def primary_error(errors: BaseExceptionGroup[BaseException]) -> BaseException:
    """The error that explains the failure: ours first, then storage's, never the abort echo."""
    leaves = _leaves(errors)
    for wanted in (ApiError, Exception):
        for leaf in leaves:
            if isinstance(leaf, wanted) and not isinstance(leaf, UploadAbortedError):
                return leaf
    return leaves[0]
