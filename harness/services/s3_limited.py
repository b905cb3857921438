"""A stand-in for an S3-compatible service none of us wrote: moto behind a limiting proxy.

Why it exists: our emulators (moto, LocalStack) implement the S3 API more fully than many
S3-compatible services users point us at. Pointed at such a service, the client and the
harness failed in ways no emulator showed: buckets left behind because the service
answers 501/405 to ListMultipartUploads, ListObjectVersions or DeleteObjects; objects
stored with botocore's aws-chunked framing as their bytes (1,024 bytes read back as
~1,067, the service answering 200); a PUT whose client hung up mid-body replacing the
existing object with what arrived. No emulator here can be told to behave like that, so
this proxy does, on purpose and configurably (`S3Limits`), in front of a real moto:

- `unsupported`: operations answered with `unsupported_status` (501 NotImplemented or 405
  MethodNotAllowed) and S3's XML error body, never forwarded;
- `store_framing`: a body sent `Content-Encoding: aws-chunked` is forwarded as plain bytes
  (the framing and its checksum trailer become the object's data), as a service that does
  not know the encoding stores it;
- `store_cut_puts`: a PUT whose body ends early (the client hung up, or fewer bytes than
  its Content-Length) is forwarded with what arrived, replacing the object.

`LimitedS3Service(limits).start()` starts its own moto (or wraps `upstream`, an S3Service
already started) and listens on a free loopback port; `endpoint_url`, the credentials,
`env()` and `harness_env()` are those of an `S3Service`, so it can stand wherever one does.
`requests()` counts forwarded and refused requests per operation (harness.faults.http
names). The proxy is a small `http.server`: it buffers each request body (test-sized
objects), and answers one request per connection turn, keep-alive aware.
"""

from __future__ import annotations

import http.client
import logging
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Literal, Self

from harness.faults.http import classify, parse_request_head
from harness.services.base import Service, ServiceStartError
from harness.services.s3 import S3Service

__all__ = ["LIMITED_OPERATIONS", "LimitedS3Service", "S3Limits"]

log = logging.getLogger(__name__)

LIMITED_OPERATIONS = frozenset({"list_multipart_uploads", "list_object_versions", "delete_objects"})
"""What the services we met lacked: bucket emptying needs none of them (see docs)."""

_ERRORS = {
    501: ("NotImplemented", "Not Implemented", "A header you provided implies functionality "
          "that is not implemented."),
    405: ("MethodNotAllowed", "Method Not Allowed", "The specified method is not allowed "
          "against this resource."),
}  # fmt: skip
_HOP_HEADERS = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "expect"}
)
_CHUNKED_ONLY_HEADERS = frozenset(
    {"x-amz-decoded-content-length", "x-amz-trailer", "x-amz-sdk-checksum-algorithm"}
)
_BLOCK = 64 * 1024


@dataclass(frozen=True)
class S3Limits:
    """How the stand-in service falls short of S3 (the defaults: all of what we met)."""

    unsupported: frozenset[str] = LIMITED_OPERATIONS
    unsupported_status: Literal[501, 405] = 501
    store_framing: bool = True
    store_cut_puts: bool = False

    def __post_init__(self) -> None:
        if self.unsupported_status not in _ERRORS:
            raise ValueError("unsupported_status must be 501 or 405")


@dataclass
class _Counts:
    forwarded: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    cut_puts_seen: int = 0
    cut_puts_stored: int = 0
    lock: threading.Condition = field(default_factory=threading.Condition)


class _CutShort(Exception):
    """The request body ended before its declared end; `.received` holds what arrived."""

    def __init__(self, received: bytes) -> None:
        super().__init__(f"request body cut short after {len(received)} bytes")
        self.received = received


class LimitedS3Service(Service):
    """moto behind a proxy that behaves like a limited S3-compatible service."""

    name = "s3-limited"

    def __init__(
        self,
        limits: S3Limits | None = None,
        *,
        upstream: S3Service | None = None,
        log_dir: Path | None = None,
    ) -> None:
        super().__init__("local")
        self.limits = limits or S3Limits()
        self._upstream = upstream
        self._owns_upstream = upstream is None
        self._log_dir = log_dir
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._counts = _Counts()
        self.host = "127.0.0.1"
        self.port = 0

    @property
    def upstream(self) -> S3Service:
        if self._upstream is None:
            raise RuntimeError("the service is not started")
        return self._upstream

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def access_key_id(self) -> str:
        return self.upstream.access_key_id

    @property
    def secret_access_key(self) -> str:
        return self.upstream.secret_access_key

    @property
    def region(self) -> str:
        return self.upstream.region

    def start(self) -> Self:
        if self.started:
            return self
        try:
            if self._upstream is None:
                self._upstream = S3Service("local", log_dir=self._log_dir).start()
            handler = _handler_class(self)
            self._server = ThreadingHTTPServer((self.host, 0), handler)
            self._server.daemon_threads = True
            self.port = int(self._server.server_address[1])
            self._thread = threading.Thread(
                target=self._server.serve_forever, name="s3-limited", daemon=True
            )
            self._thread.start()
        except OSError as exc:
            self.stop()
            raise ServiceStartError(self.name, str(exc), "free a loopback port") from exc
        except BaseException:
            self.stop()
            raise
        self.started = True
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._owns_upstream and self._upstream is not None:
            self._upstream.stop()
            self._upstream = None
        self.started = False

    def env(self) -> dict[str, str]:
        """crownsafe's settings for this endpoint (see crownsafe/config.py)."""
        return {**self.upstream.env(), "S3_ENDPOINT_URL": self.endpoint_url}

    def harness_env(self) -> dict[str, str]:
        """Variables that let a harness run use this service with --provision external."""
        return {**self.upstream.harness_env(), "HARNESS_S3_ENDPOINT_URL": self.endpoint_url}

    def describe(self) -> str:
        return f"{self.endpoint_url} (limited S3 in front of {self.upstream.describe()})"

    def requests(self) -> dict[str, Counter[str]]:
        """{'forwarded': {operation: n}, 'refused': {operation: n}} so far."""
        with self._counts.lock:
            return {
                "forwarded": Counter(self._counts.forwarded),
                "refused": Counter(self._counts.refused),
            }

    @property
    def cut_puts_stored(self) -> int:
        """How many PUTs cut short were stored with what arrived (the upstream said 2xx)."""
        with self._counts.lock:
            return self._counts.cut_puts_stored

    @property
    def cut_puts_seen(self) -> int:
        """How many PUTs (objects or parts) arrived cut short, stored or not: a cut part
        of a multipart upload the client aborted meanwhile is refused upstream."""
        with self._counts.lock:
            return self._counts.cut_puts_seen

    def wait_for_cut_puts(self, count: int, timeout: float = 10.0, *, stored: bool = True) -> bool:
        """Wait until `count` cut PUTs were stored (or, `stored=False`, seen: the proxy
        sees a hang-up after the client does); False if `timeout` passed first."""
        with self._counts.lock:
            return self._counts.lock.wait_for(
                lambda: (
                    (self._counts.cut_puts_stored if stored else self._counts.cut_puts_seen)
                    >= count
                ),
                timeout,
            )

    def _count(self, kind: Literal["forwarded", "refused"], operation: str) -> None:
        with self._counts.lock:
            getattr(self._counts, kind)[operation] += 1

    def _count_cut(self, *, stored: bool) -> None:
        with self._counts.lock:
            if stored:
                self._counts.cut_puts_stored += 1
            else:
                self._counts.cut_puts_seen += 1
            self._counts.lock.notify_all()


def _handler_class(service: LimitedS3Service) -> type[BaseHTTPRequestHandler]:
    class Handler(_LimitedHandler):
        owner = service

    return Handler


class _LimitedHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    owner: LimitedS3Service

    def log_message(self, format: str, *args: object) -> None:
        log.debug("s3-limited: " + format, *args)

    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        limits = self.owner.limits
        operation = self._operation()
        try:
            body = self._read_body()
        except _CutShort as cut:
            self.close_connection = True
            if limits.store_cut_puts and self.command == "PUT" and operation in (
                "put_object", "upload_part"
            ):  # fmt: skip
                self.owner._count_cut(stored=False)
                self._forward(operation, self._as_plain(cut.received), cut=True)
            return
        if operation in limits.unsupported:
            self.owner._count("refused", operation)
            self._refuse(limits.unsupported_status)
            return
        self._forward(operation, body)

    def _operation(self) -> str:
        raw = f"{self.requestline}\r\n".encode("latin-1") + bytes(self.headers)
        head = parse_request_head(raw.rstrip(b"\r\n") + b"\r\n\r\n")
        return classify(head, "s3") if head is not None else self.command.lower()

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        received = bytearray()
        while len(received) < length:
            try:
                block = self.rfile.read(min(_BLOCK, length - len(received)))
            except OSError:
                block = b""
            if not block:
                raise _CutShort(bytes(received))
            received += block
        return bytes(received)

    def _read_chunked(self) -> bytes:
        received = bytearray()
        try:
            while True:
                size_line = self.rfile.readline(1024)
                if not size_line.endswith(b"\n"):
                    raise _CutShort(bytes(received))
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(received)
                chunk = self.rfile.read(size + 2)
                received += chunk[:size]
                if len(chunk) < size + 2:
                    raise _CutShort(bytes(received))
        except (OSError, ValueError):
            raise _CutShort(bytes(received)) from None

    def _as_plain(self, received: bytes) -> bytes:
        """What arrived of a cut body, as the bytes a naive service would store."""
        if self._aws_chunked() and not self.owner.limits.store_framing:
            return _decode_complete_chunks(received)
        return received

    def _aws_chunked(self) -> bool:
        return "aws-chunked" in self.headers.get("Content-Encoding", "").lower()

    def _upstream_headers(self, body: bytes, *, plain: bool) -> dict[str, str]:
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            lower = name.lower()
            if lower in _HOP_HEADERS or lower == "content-length" or lower == "host":
                continue
            if plain and (lower in _CHUNKED_ONLY_HEADERS or lower.startswith("x-amz-checksum")):
                continue
            if plain and lower == "content-md5":
                continue
            if plain and lower == "content-encoding":
                rest = [v for v in value.split(",") if v.strip().lower() != "aws-chunked"]
                if rest:
                    headers[name] = ",".join(rest)
                continue
            headers[name] = value
        if plain:
            headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD"
        headers["Content-Length"] = str(len(body))
        return headers

    def _forward(self, operation: str, body: bytes, *, cut: bool = False) -> None:
        plain = cut or (self._aws_chunked() and self.owner.limits.store_framing)
        headers = self._upstream_headers(body, plain=plain)
        upstream = self.owner.upstream
        connection = http.client.HTTPConnection(upstream.host, upstream.port, timeout=60)
        try:
            connection.request(self.command, self.path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            self.owner._count("forwarded", operation)
            if cut:
                if 200 <= response.status < 300:
                    self.owner._count_cut(stored=True)
                return
            self.send_response(response.status, response.reason)
            for name, value in response.getheaders():
                if name.lower() not in _HOP_HEADERS and name.lower() != "content-length":
                    self.send_header(name, value)
            length = response.getheader("Content-Length") if self.command == "HEAD" else None
            self.send_header("Content-Length", length or str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
        finally:
            connection.close()

    def _refuse(self, status: int) -> None:
        code, reason, message = _ERRORS[status]
        request_id = uuid.uuid4().hex[:16].upper()
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Error>'
            f"<Code>{code}</Code><Message>{message}</Message>"
            f"<RequestId>{request_id}</RequestId></Error>"
        ).encode()
        self.send_response(status, reason)
        self.send_header("Content-Type", "application/xml")
        self.send_header("x-amz-request-id", request_id)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def _decode_complete_chunks(framed: bytes) -> bytes:
    """The payload of the complete aws-chunked chunks of `framed` (a cut body)."""
    payload = bytearray()
    position = 0
    while True:
        line_end = framed.find(b"\r\n", position)
        if line_end < 0:
            return bytes(payload)
        size = int(framed[position:line_end].split(b";")[0] or b"0", 16)
        start, end = line_end + 2, line_end + 2 + size
        if size == 0 or end > len(framed):
            return bytes(payload)
        payload += framed[start:end]
        position = end + 2
