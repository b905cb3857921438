"""The S3 client of streamed uploads: a non-seekable body of known length, read while it
is sent (`upload_file(..., length=n)`).

Such a body can be neither hashed for SigV4 (over http botocore signs the payload: it
reads the stream and seeks back) nor checksummed in a header (that too reads it first).
So this client signs the headers only (`payload_signing_enabled=False`) and sends the
body aws-chunked with its CRC32 in a trailer (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`), what
botocore does by itself over https; `_checksum_in_trailer` asks for it over http too (the
emulators). The trailer is computed while the body streams and is what makes a cut-short
body fail: the service never sees the last chunk and the trailer, so it stores nothing
(LocalStack stores a cut plain PutObject: docs/emulators.md). Used for PutObject and
UploadPart (`crownsafe.storage.s3._upload`); every other request keeps the default client.

With S3_REQUEST_CHECKSUMS=when_required (a service that does not understand aws-chunked
and would store the framing as data) the body goes plain, UNSIGNED-PAYLOAD with its
Content-Length; what was stored is then checked by size (`crownsafe.storage.s3._transport`).

Two botocore details are relied on, each documented where it is used: the checksum
placement in the request context (`_checksum_in_trailer`) and the private pool settings
that set urllib3's send block (`_large_send_blocks`, skipped when absent).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

__all__ = ["LazyStreamingClient", "streaming_config"]

SEND_BLOCK_BYTES = 256 * 1024
_STREAMED_OPERATIONS = ("PutObject", "UploadPart")


def streaming_config(config: Config, *, path_style: bool, trailer_checksums: bool = True) -> Config:
    """The default client's `config` with payload signing off and, with `trailer_checksums`,
    checksums when supported (in a trailer); without, a plain body (UNSIGNED-PAYLOAD)."""
    s3: Any = {"payload_signing_enabled": False}
    if path_style:
        s3["addressing_style"] = "path"
    if not trailer_checksums:
        return config.merge(Config(s3=s3, request_checksum_calculation="when_required"))
    return config.merge(Config(s3=s3, request_checksum_calculation="when_supported"))


def _checksum_in_trailer(context: dict[str, Any], **_: Any) -> None:
    """botocore `before-call` hook: the request checksum goes in an aws-chunked trailer
    (botocore only chooses that over https by itself)."""
    algorithm = context.get("checksum", {}).get("request_algorithm")
    if isinstance(algorithm, dict) and algorithm.get("in") == "header":
        algorithm["in"] = "trailer"


def _large_send_blocks(client: Any) -> None:
    """Let urllib3 read request bodies in 256 KiB blocks (16 KiB by default). botocore's
    aws-chunked wrapper slices its 1 MiB chunk once per read: at 16 KiB that copied ~32x
    the body (py-spy: the app's largest cost on a 10 MiB PUT). Best effort: botocore's pool
    manager is private; without it nothing changes."""
    manager = getattr(getattr(getattr(client, "_endpoint", None), "http_session", None),
                      "_manager", None)  # fmt: skip
    pool_kw = getattr(manager, "connection_pool_kw", None)
    if isinstance(pool_kw, dict):
        pool_kw["blocksize"] = SEND_BLOCK_BYTES


def prepare(client: S3Client, *, trailer_checksums: bool = True) -> S3Client:
    """Register the trailer hook (with `trailer_checksums`) and the larger send blocks on a
    freshly built client."""
    _large_send_blocks(client)
    if not trailer_checksums:
        return client
    for operation in _STREAMED_OPERATIONS:
        client.meta.events.register(
            f"before-call.s3.{operation}",
            _checksum_in_trailer,
            unique_id=f"crownsafe-trailer-{operation}",
        )
    return client


class LazyStreamingClient:
    """Builds the streaming client on first use (most processes never stream), once."""

    def __init__(self, build: Callable[[], S3Client], *, trailer_checksums: bool = True) -> None:
        self._build = build
        self._trailer_checksums = trailer_checksums
        self._client: S3Client | None = None
        self._lock = threading.Lock()

    def get(self) -> S3Client:
        with self._lock:
            if self._client is None:
                self._client = prepare(self._build(), trailer_checksums=self._trailer_checksums)
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
