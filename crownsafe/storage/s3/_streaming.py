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

The aws-chunked framing of a streamed body is ours (`AwsChunkedBody`), not botocore's:
botocore's wrapper copied every byte about four times in Python (it appends each 1 MiB
chunk to a buffer and slices the buffer once per urllib3 block), CRC32'd it a second time
beside our own `Crc32Reader`, and, as its length is unknown, went out with
`Transfer-Encoding: chunked`, so urllib3 framed (and copied) every block once more. Our
body has fixed 1 MiB chunks, so its encoded length is known from the body's length: it
goes out with a Content-Length, its pieces are the request's own chunks as they arrived
(`read1`, no join), and the trailer carries the one CRC32 computed while they pass.
py-spy: about 25 of the app's 60 ms of CPU per 10 MiB raw upload were botocore's framing.

Three botocore details are relied on, each documented where it is used: the checksum
placement in the request context (`_checksum_in_trailer`), the `before-sign` event where
its framing is replaced (`_own_framing`), and the private pool settings that set
urllib3's send block (`_large_send_blocks`, skipped when absent).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

__all__ = ["AwsChunkedBody", "ChecksummedStream", "LazyStreamingClient", "streaming_config"]

SEND_BLOCK_BYTES = 256 * 1024
_STREAMED_OPERATIONS = ("PutObject", "UploadPart")
AWS_CHUNK_BYTES = 1024 * 1024
"""Bytes of data per aws-chunked chunk (botocore's too): fixed, so the length is known."""
_STREAM_KEY = "crownsafe_streamed_body"
"""Request-context key under which the before-call hook leaves our body for `_own_framing`."""


class ChecksummedStream(Protocol):
    """A streamed body that computes its CRC32 as it is read (`_transport.Crc32Reader`)."""

    def read1(self, size: int = -1, /) -> bytes | memoryview: ...

    @property
    def checksum(self) -> str: ...


class AwsChunkedBody:
    """`length` bytes of `stream` as an aws-chunked body with the CRC32 in a trailer.

    Iterated once by urllib3 (one `sendall` per piece): per chunk of `chunk_bytes` (the
    last shorter) its hex size line, its data in the pieces `stream.read1` gives (not
    joined, not copied), CRLF; then the zero chunk and the trailer `name:crc32`. Its
    `encoded_length` goes in the Content-Length. A stream that ends early raises from its
    own `read1` (`ExactLengthReader`); one that gives nothing raises `EOFError` here.
    """

    def __init__(
        self,
        stream: ChecksummedStream,
        length: int,
        trailer_name: str,
        chunk_bytes: int = AWS_CHUNK_BYTES,
    ) -> None:
        if length < 0 or chunk_bytes < 1:
            raise ValueError(f"length must be >= 0 and chunk_bytes >= 1: {length}, {chunk_bytes}")
        self._stream = stream
        self.length = length
        self._name = trailer_name.encode("ascii")
        self._chunk = chunk_bytes

    @property
    def encoded_length(self) -> int:
        """Bytes on the wire: chunk lines, data, CRLFs, the zero chunk and the trailer
        (a CRC32 in base64 is always 8 characters)."""
        full, last = divmod(self.length, self._chunk)
        total = full * (len(b"%x" % self._chunk) + 4 + self._chunk)
        if last:
            total += len(b"%x" % last) + 4 + last
        return total + len(b"0\r\n") + len(self._name) + 1 + 8 + len(b"\r\n\r\n")

    def __iter__(self) -> Iterator[bytes | memoryview]:
        left = self.length
        while left:
            size = min(self._chunk, left)
            yield b"%x\r\n" % size
            need = size
            while need:
                piece = self._stream.read1(need)
                if not piece:
                    raise EOFError(f"the body ended {left - size + need} bytes early")
                yield piece
                need -= len(piece)
            yield b"\r\n"
            left -= size
        yield b"0\r\n%s:%s\r\n\r\n" % (self._name, self._stream.checksum.encode("ascii"))


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


def _keep_streamed_body(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    """botocore `before-call` hook: remember a checksummed stream (ours) for `_own_framing`,
    before botocore wraps it in its own aws-chunked wrapper."""
    body = params.get("body")
    if hasattr(body, "read1") and hasattr(body, "checksum"):
        context[_STREAM_KEY] = body


def _own_framing(request: Any, **_: Any) -> None:
    """botocore `before-sign` hook: replace botocore's aws-chunked wrapper (set up by its
    `apply_request_checksum` with the trailer headers we keep) by `AwsChunkedBody`, sent
    with a Content-Length instead of `Transfer-Encoding: chunked` (signed as such)."""
    stream = request.context.pop(_STREAM_KEY, None)
    headers = request.headers
    if stream is None or "X-Amz-Trailer" not in headers:
        return
    if "X-Amz-Decoded-Content-Length" not in headers:
        return  # no length to frame with: botocore's own framing stays
    body = AwsChunkedBody(
        stream, int(headers["X-Amz-Decoded-Content-Length"]), headers["X-Amz-Trailer"]
    )
    request.data = body
    del headers["Transfer-Encoding"]
    headers["Content-Length"] = str(body.encoded_length)


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
        events = client.meta.events
        events.register(
            f"before-call.s3.{operation}",
            _checksum_in_trailer,
            unique_id=f"crownsafe-trailer-{operation}",
        )
        events.register(
            f"before-call.s3.{operation}",
            _keep_streamed_body,
            unique_id=f"crownsafe-keep-body-{operation}",
        )
        events.register(
            f"before-sign.s3.{operation}", _own_framing, unique_id=f"crownsafe-frame-{operation}"
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
