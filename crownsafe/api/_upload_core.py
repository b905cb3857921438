"""The skeleton both upload receivers share: one request body carried into storage.

`_upload_stream` (multipart) and `_upload_raw` (the body is the file) differ only in how
they take the file's bytes out of the request and which sizes they refuse. Everything
else is here, once: `IncomingUpload` collects the first bytes, identifies the image type
from them (never from a name or header), and at the receiver's threshold starts the
storage upload in a worker thread, fed through a `StreamBridge` from then on;
`receive_upload` runs that inside a task group, so that whatever fails (our own
`ApiError`, a client gone, storage) aborts the bridge (the storage request never commits
a partial object), cancels the upload thread on our own error, and raises the error that
explains the failure.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import BinaryIO, Protocol, cast

import anyio
from anyio.abc import TaskGroup

from crownsafe.api._bridge import StreamBridge, UploadAbortedError
from crownsafe.api.errors import ApiError
from crownsafe.storage.base import StorageClient
from crownsafe.visual.sniff import SNIFF_BYTES, ImageKind, sniff_image_type

__all__ = [
    "CLOSE",
    "SINGLE_PUT_BYTES",
    "IncomingUpload",
    "StoredUpload",
    "identify",
    "receive_upload",
    "too_large",
]

CLOSE = {"Connection": "close"}
"""Headers of an answer given before the body was read: the connection is not reused."""
SINGLE_PUT_BYTES = 2 * 1024 * 1024
"""Files smaller than this are sent in one request; larger ones stream in blocks."""


@dataclass(frozen=True)
class StoredUpload:
    blob_name: str
    kind: ImageKind
    size: int


def too_large(limit: int) -> ApiError:
    return ApiError(413, f"the image is larger than the limit of {limit} bytes", headers=CLOSE)


def identify(head: list[bytes]) -> ImageKind:
    """The image type of the first bytes (`head`): 415 when not JPEG, PNG or WebP."""
    kind = sniff_image_type(b"".join(head)[:SNIFF_BYTES])
    if kind is None:
        raise ApiError(415, "the file is not a JPEG, PNG or WebP image")
    return kind


class Quota(Protocol):
    """A charge per byte received (the user's upload byte quota): `received` after each
    piece, `settle` before the object is committed; either raises `ApiError` (429)."""

    async def received(self, size: int) -> None: ...
    async def settle(self) -> None: ...


@dataclass
class IncomingUpload:
    """One upload between the request and storage.

    `add(piece)` counts each piece of the file (`on_bytes`), refuses more than
    `max_size` bytes (`overflow()` is the error), identifies the type once `sniff_at`
    bytes arrived and, at `stream_at` bytes, starts the storage upload in a worker thread;
    pieces then go through the bridge. `length` is the file's size when the request
    declared it (the storage request then carries it); otherwise the size is known only
    at the end. A file that ends before `stream_at` goes up whole, in one request.
    `quota`, when given, is charged for every piece and settled before the commit.
    """

    storage: StorageClient
    name_for: Callable[[ImageKind], str]
    on_bytes: Callable[[int], None]
    on_stored: Callable[[StoredUpload], None]
    max_size: int
    overflow: Callable[[], ApiError]
    sniff_at: int = SNIFF_BYTES
    stream_at: float = SINGLE_PUT_BYTES
    length: int | None = None
    quota: Quota | None = None
    head: list[bytes] = field(default_factory=list)
    size: int = 0
    kind: ImageKind | None = None
    blob_name: str = ""
    bridge: StreamBridge | None = None
    group: TaskGroup | None = None

    async def add(self, piece: bytes) -> None:
        self.size += len(piece)
        self.on_bytes(len(piece))
        if self.size > self.max_size:
            raise self.overflow()
        if self.quota is not None:
            await self.quota.received(len(piece))
        if self.bridge is not None:
            await self.bridge.feed(piece)
            return
        self.head.append(piece)
        if self.kind is None and self.size >= self.sniff_at:
            self.identify_head()
        if self.size >= self.stream_at:
            self._start_stream()

    def identify_head(self) -> None:
        self.kind = identify(self.head)
        self.blob_name = self.name_for(self.kind)

    def _start_stream(self) -> None:
        assert self.kind is not None and self.group is not None
        self.bridge = StreamBridge()
        self.bridge.preload(self.head)  # the chunks themselves, not a copy
        self.head = []
        call = functools.partial(
            _stream, self.storage, self.blob_name, self.kind, self.bridge, self.length,
            self.on_stored,
        )  # fmt: skip
        self.group.start_soon(anyio.to_thread.run_sync, call)

    async def finish(self) -> None:
        """The body is complete: let the streamed request end, or, when the file was small
        enough to be collected (`head`), send it in one request from a worker thread."""
        if self.kind is None:
            self.identify_head()
        assert self.kind is not None
        if self.quota is not None:
            await self.quota.settle()
        if self.bridge is not None:
            await self.bridge.finish()
            return
        data = b"".join(self.head)
        self.head.clear()  # the chunks go; only the joined copy lives on, in the call
        call = functools.partial(
            _put, self.storage, self.blob_name, self.kind, data, self.on_stored
        )
        del data
        await anyio.to_thread.run_sync(call)

    def stored(self) -> StoredUpload:
        assert self.kind is not None
        return StoredUpload(self.blob_name, self.kind, self.size)


async def receive_upload(
    upload: IncomingUpload, receive: Callable[[IncomingUpload], Awaitable[None]]
) -> StoredUpload:
    """Run `receive(upload)` (which reads the request and calls `upload.add`, raising
    `ApiError` on bad input) and store the file; raise the error that explains a failure."""
    try:
        async with anyio.create_task_group() as group:
            upload.group = group
            try:
                await receive(upload)
                await upload.finish()
            except BaseException as exc:
                _abort(exc, upload.bridge, group.cancel_scope)
                raise
    except BaseExceptionGroup as errors:
        raise _primary_error(errors) from None
    finally:
        if upload.bridge is not None:
            upload.bridge.close()
    return upload.stored()


def _abort(exc: BaseException, bridge: StreamBridge | None, scope: anyio.CancelScope) -> None:
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
    """Runs in a worker thread: a file under the streaming threshold, complete, goes up as
    bytes (one request, and retryable by the resilience layer)."""
    storage.upload_file(name, data, kind.content_type, None, False)
    on_stored(StoredUpload(name, kind, len(data)))


def _stream(
    storage: StorageClient,
    name: str,
    kind: ImageKind,
    bridge: StreamBridge,
    length: int | None,
    on_stored: Callable[[StoredUpload], None],
) -> None:
    """Runs in a worker thread: the file streams from the bridge (its first bytes are
    already in it); with a declared `length`, in one request of exactly that size."""
    body = cast(BinaryIO, bridge)
    if length is None:
        storage.upload_file(name, body, kind.content_type, None, False)
        on_stored(StoredUpload(name, kind, bridge.consumed))
    else:
        storage.upload_file(name, body, kind.content_type, None, False, length=length)
        on_stored(StoredUpload(name, kind, length))


def _leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in _leaves(inner)]
    return [error]


def _primary_error(errors: BaseExceptionGroup[BaseException]) -> BaseException:
    """The error that explains the failure: ours first, then storage's, never the abort echo."""
    leaves = _leaves(errors)
    for wanted in (ApiError, Exception):
        for leaf in leaves:
            if isinstance(leaf, wanted) and not isinstance(leaf, UploadAbortedError):
                return leaf
    return leaves[0]
