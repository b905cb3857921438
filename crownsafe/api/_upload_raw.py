"""Receive one raw-body image upload (the body IS the file) and stream it into storage.

`POST /uploads` with `Content-Type` image/jpeg, image/png, image/webp or
application/octet-stream and a `Content-Length`. The length is known before the body, so
a file of SINGLE_PUT_BYTES or more goes up in ONE streamed storage request
(`upload_file(..., length=n)`: one Put Block + Put Block List on Azure, one streamed
PutObject with a CRC32 trailer on S3) that starts as soon as the first bytes identified
the type, and overlaps with receiving the rest (through a `StreamBridge`). A smaller
file is collected and sent as bytes in one request (retryable by the resilience layer).

- no Content-Length: 411 (a chunked raw body is refused; multipart allows it);
- Content-Length above the limit: 413 before anything is read (Connection: close);
- the type comes from the bytes, never from the header: 415 otherwise;
- a body shorter than declared (the client went away): 400, and nothing is stored
  (the bridge is aborted, the storage request fails before its commit).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import BinaryIO, cast

import anyio
from starlette.requests import ClientDisconnect, Request

from crownsafe.api._bridge import StreamBridge
from crownsafe.api._upload_stream import (
    CLOSE,
    SINGLE_PUT_BYTES,
    StoredUpload,
    abort_upload,
    finish_upload,
    identify,
    primary_error,
    too_large,
)
from crownsafe.api.errors import ApiError
from crownsafe.storage.base import StorageClient
from crownsafe.visual.sniff import SNIFF_BYTES, ImageKind

__all__ = ["RAW_CONTENT_TYPES", "is_raw_upload", "stream_raw_upload"]

RAW_CONTENT_TYPES = ("image/jpeg", "image/png", "image/webp", "application/octet-stream")


def is_raw_upload(request: Request) -> bool:
    """True when the request's Content-Type is one of `RAW_CONTENT_TYPES`."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return media_type in RAW_CONTENT_TYPES


def declared_length(request: Request, limit: int) -> int:
    """The body's Content-Length: 411 without one, 400 if malformed, 413 above `limit`."""
    declared = request.headers.get("content-length")
    if declared is None:
        raise ApiError(
            411,
            "a raw image upload needs a Content-Length (or send multipart/form-data)",
            headers=CLOSE,
        )
    if not declared.isdigit():
        raise ApiError(400, "Content-Length is not a number", headers=CLOSE)
    length = int(declared)
    if length > limit:
        raise too_large(limit)
    return length


def _short_body(received: int, length: int) -> ApiError:
    return ApiError(
        400,
        f"the body ended after {received} of the {length} bytes of its Content-Length",
        headers=CLOSE,
    )


async def stream_raw_upload(
    request: Request,
    storage: StorageClient,
    *,
    limit: int,
    name_for: Callable[[ImageKind], str],
    on_bytes: Callable[[int], None] = lambda n: None,
    on_stored: Callable[[StoredUpload], None] = lambda stored: None,
) -> StoredUpload:
    """Stream the request body (the image) into `storage`; raise `ApiError` on bad input.

    `on_stored` runs in the upload's worker thread right after the object was stored.
    """
    length = declared_length(request, limit)
    head: list[bytes] = []
    size = 0
    kind: ImageKind | None = None
    blob_name = ""
    bridge: StreamBridge | None = None
    try:
        async with anyio.create_task_group() as group:
            try:
                try:
                    async for chunk in request.stream():
                        if not chunk:
                            continue
                        size += len(chunk)
                        on_bytes(len(chunk))
                        if size > length:
                            raise ApiError(400, "the body is longer than its Content-Length")
                        if bridge is not None:
                            await bridge.feed(chunk)
                            continue
                        head.append(chunk)
                        if kind is None and size >= min(SNIFF_BYTES, length):
                            kind = identify(head)
                            blob_name = name_for(kind)
                        if kind is not None and length >= SINGLE_PUT_BYTES:
                            bridge = StreamBridge()
                            bridge.preload(head)
                            head = []
                            call = functools.partial(
                                _stream_sized, storage, blob_name, kind, length, bridge,
                                on_stored,
                            )  # fmt: skip
                            group.start_soon(anyio.to_thread.run_sync, call)
                except ClientDisconnect:
                    raise _short_body(size, length) from None
                if size < length:
                    raise _short_body(size, length)
                if kind is None:
                    kind = identify(head)
                    blob_name = name_for(kind)
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


def _stream_sized(
    storage: StorageClient,
    name: str,
    kind: ImageKind,
    length: int,
    bridge: StreamBridge,
    on_stored: Callable[[StoredUpload], None],
) -> None:
    """Runs in a worker thread: the body goes up in one request of exactly `length` bytes."""
    storage.upload_file(name, cast(BinaryIO, bridge), kind.content_type, None, False, length=length)
    on_stored(StoredUpload(name, kind, length))
