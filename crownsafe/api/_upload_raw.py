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

import math
from collections.abc import Callable

from starlette.requests import ClientDisconnect, Request

from crownsafe.api._upload_core import (
    CLOSE,
    SINGLE_PUT_BYTES,
    IncomingUpload,
    StoredUpload,
    receive_upload,
    too_large,
)
from crownsafe.api.errors import ApiError
from crownsafe.api.ratelimit_http import ByteQuota
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
    quota: ByteQuota | None = None,
) -> StoredUpload:
    """Stream the request body (the image) into `storage`; raise `ApiError` on bad input.

    `on_stored` runs in the upload's worker thread right after the object was stored.
    """
    length = declared_length(request, limit)
    if quota is not None:
        await quota.precheck(length)
    sniff_at = min(SNIFF_BYTES, length)
    upload = IncomingUpload(
        storage,
        name_for,
        on_bytes,
        on_stored,
        max_size=length,
        overflow=lambda: ApiError(400, "the body is longer than its Content-Length"),
        sniff_at=sniff_at,
        # known length: the one sized request starts as soon as the type is known
        stream_at=sniff_at if length >= SINGLE_PUT_BYTES else math.inf,
        length=length,
        quota=quota,
    )

    async def receive(upload: IncomingUpload) -> None:
        try:
            async for chunk in request.stream():
                if chunk:
                    await upload.add(chunk)
        except ClientDisconnect:
            raise _short_body(upload.size, length) from None
        if upload.size < length:
            raise _short_body(upload.size, length)

    return await receive_upload(upload, receive)
