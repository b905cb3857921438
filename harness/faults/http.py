"""HTTP-level faults: parse HTTP/1.1 requests, classify them, answer some with a service error.

The proxy parses each request head on a connection (keep-alive aware; bodies framed by
Content-Length or chunked encoding), counts it under an operation name, and either
forwards it or answers it itself with the status, headers and XML error body the real
service sends:

- Azure: ``<Error><Code>ServerBusy</Code><Message>...RequestId:...Time:...</Message></Error>``
  with `x-ms-request-id`, `x-ms-error-code`, `x-ms-version` (echoed) and
  `x-ms-client-request-id` (echoed), optional `Retry-After` / `x-ms-retry-after-ms`.
- S3: ``<Error><Code>SlowDown</Code><Message>...</Message><Resource>...</Resource>
  <RequestId>...</RequestId><HostId>...</HostId></Error>`` with `x-amz-request-id`, `x-amz-id-2`.

Operation names follow each service's API (Azure: put_blob, put_block, put_block_list,
get_blob, get_blob_properties, delete_blob, list_blobs, create_container, ...; S3:
put_object, upload_part, create_multipart_upload, complete_multipart_upload, get_object,
head_object, delete_object, list_objects, list_object_versions, list_multipart_uploads,
delete_objects, create_bucket, ...).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Literal
from urllib.parse import parse_qs, urlsplit

__all__ = [
    "FLAVORS",
    "Flavor",
    "HttpFault",
    "HttpRequestHead",
    "classify",
    "error_response",
    "parse_request_head",
]

Flavor = Literal["azure", "s3", "generic"]
FLAVORS: tuple[Flavor, ...] = ("azure", "s3", "generic")

_AZURE_ERRORS: dict[int, tuple[str, str]] = {
    503: ("ServerBusy", "The server is busy."),
    500: ("InternalError", "The server encountered an internal error. Please retry the request."),
    429: ("ServerBusy", "Operations per second is over the account limit."),
    408: ("OperationTimedOut", "The operation could not be completed within the permitted time."),
}
_AZURE_MESSAGES: dict[str, str] = {
    "OperationTimedOut": "The operation could not be completed within the permitted time.",
    "InternalError": _AZURE_ERRORS[500][1],
    "ServerBusy": _AZURE_ERRORS[503][1],
}
_S3_ERRORS: dict[int, tuple[str, str]] = {
    503: ("SlowDown", "Please reduce your request rate."),
    500: ("InternalError", "We encountered an internal error. Please try again."),
    429: ("SlowDown", "Please reduce your request rate."),
    408: (
        "RequestTimeout",
        "Your socket connection to the server was not read from or written to within "
        "the timeout period. Idle connections will be closed.",
    ),
}
_S3_MESSAGES: dict[str, str] = {
    "SlowDown": _S3_ERRORS[503][1],
    "InternalError": _S3_ERRORS[500][1],
    "ServiceUnavailable": "Reduce your request rate.",
}
_REASONS = {
    408: "Request Timeout",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


@dataclass(frozen=True)
class HttpRequestHead:
    method: str
    target: str
    version: str
    headers: Mapping[str, str]  # lower-cased names; repeated headers joined with ","
    raw: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.target).query, keep_blank_values=True)

    @property
    def content_length(self) -> int | None:
        value = self.headers.get("content-length")
        return int(value) if value is not None and value.strip().isdigit() else None

    @property
    def chunked(self) -> bool:
        return "chunked" in self.headers.get("transfer-encoding", "").lower()

    @property
    def expects_continue(self) -> bool:
        return self.headers.get("expect", "").lower() == "100-continue"

    @property
    def wants_close(self) -> bool:
        conn = self.headers.get("connection", "").lower()
        return conn == "close" or (self.version == "HTTP/1.0" and conn != "keep-alive")


_REQUEST_LINE = re.compile(rb"^([A-Z]+) (\S+) (HTTP/1\.[01])$")


def parse_request_head(raw: bytes) -> HttpRequestHead | None:
    """Parse a request head ending in CRLF CRLF; None if it is not HTTP/1.x."""
    lines = raw.split(b"\r\n")
    match = _REQUEST_LINE.match(lines[0])
    if match is None:
        return None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(b":")
        if not sep:
            return None
        key = name.strip().decode("latin-1").lower()
        text = value.strip().decode("latin-1")
        headers[key] = f"{headers[key]},{text}" if key in headers else text
    method, target, version = (part.decode("latin-1") for part in match.groups())
    return HttpRequestHead(method, target, version, headers, raw)


def classify(head: HttpRequestHead, flavor: Flavor) -> str:
    """The service operation a request performs (best effort, by method + path + query)."""
    query = head.query
    method = head.method
    parts = [p for p in head.path.split("/") if p]
    if flavor == "azure":
        # path-style emulator URL: /<account>/<container>/<blob...>
        depth = len(parts) - 1 if parts else 0
        comp = (query.get("comp") or [""])[0]
        if "restype" in query and (query.get("restype") or [""])[0] == "service":
            return f"{method.lower()}_service_{comp or 'properties'}"
        if comp == "userdelegationkey":
            return "get_user_delegation_key"
        if depth <= 1 or (query.get("restype") or [""])[0] == "container":
            if comp == "list":
                return "list_blobs"
            return {
                "PUT": "create_container",
                "DELETE": "delete_container",
                "HEAD": "get_container_properties",
                "GET": "get_container_properties",
            }.get(method, f"{method.lower()}_container")
        if method == "PUT":
            return {"block": "put_block", "blocklist": "put_block_list", "": "put_blob"}.get(
                comp, f"put_blob_{comp}"
            )
        return {"GET": "get_blob", "HEAD": "get_blob_properties", "DELETE": "delete_blob"}.get(
            method, f"{method.lower()}_blob"
        )
    if flavor == "s3":
        has_key = len(parts) >= 2
        if not has_key:
            if method == "GET" and parts and "uploads" in query:
                return "list_multipart_uploads"
            if method == "GET" and parts and "versions" in query:
                return "list_object_versions"
            if method == "GET":
                return "list_objects" if parts else "list_buckets"
            if method == "POST" and "delete" in query:
                return "delete_objects"
            return {"PUT": "create_bucket", "DELETE": "delete_bucket", "HEAD": "head_bucket"}.get(
                method, f"{method.lower()}_bucket"
            )
        if "uploads" in query and method == "POST":
            return "create_multipart_upload"
        if "uploadId" in query:
            return {
                "PUT": "upload_part",
                "POST": "complete_multipart_upload",
                "DELETE": "abort_multipart_upload",
                "GET": "list_parts",
            }.get(method, f"{method.lower()}_multipart")
        return {
            "PUT": "put_object",
            "GET": "get_object",
            "HEAD": "head_object",
            "DELETE": "delete_object",
        }.get(method, f"{method.lower()}_object")
    return f"{method} {head.path}"


@dataclass
class HttpFault:
    """Answer matching requests with `status` instead of forwarding them.

    A request matches when `method` and `path` (regexes on the method and on the request
    target including its query) and `operations` (classified names) all match, then the
    fault fires on the first `first_n` matches (all when None) with probability
    `probability` (drawn with the proxy's rng).
    """

    name: str
    status: int = 503
    code: str | None = None
    message: str | None = None
    first_n: int | None = None
    probability: float = 1.0
    method: str | None = None
    path: str | None = None
    operations: frozenset[str] | None = None
    retry_after: float | None = None
    retry_after_ms: int | None = None
    close_connection: bool = False
    matched: int = field(default=0, init=False)
    injected: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be in [0, 1]")
        if self.status < 400 or self.status > 599:
            raise ValueError("status must be a 4xx or 5xx code")

    def matches(self, head: HttpRequestHead, operation: str) -> bool:
        if self.method and not re.fullmatch(self.method, head.method):
            return False
        if self.path and not re.search(self.path, head.target):
            return False
        return not (self.operations and operation not in self.operations)


def _retry_headers(fault: HttpFault) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    if fault.retry_after is not None:
        value = fault.retry_after
        headers.append(("Retry-After", str(int(value)) if value == int(value) else str(value)))
    if fault.retry_after_ms is not None:
        headers.append(("x-ms-retry-after-ms", str(fault.retry_after_ms)))
    return headers


def error_response(
    fault: HttpFault, head: HttpRequestHead, flavor: Flavor, *, keep_alive: bool
) -> bytes:
    """The full HTTP response (status line, headers, body) the service would send."""
    now = datetime.now(UTC)
    request_id = str(uuid.uuid4())
    headers: list[tuple[str, str]] = [("Date", format_datetime(now, usegmt=True))]
    if flavor == "azure":
        code, message = _AZURE_ERRORS.get(fault.status, ("InternalError", "Error."))
        code = fault.code or code
        message = fault.message or _AZURE_MESSAGES.get(code, message)
        stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%f0Z")
        body = (
            '<?xml version="1.0" encoding="utf-8"?><Error><Code>'
            f"{code}</Code><Message>{message}\nRequestId:{request_id}\nTime:{stamp}"
            "</Message></Error>"
        ).encode()
        reason = message
        headers += [
            ("Content-Type", "application/xml"),
            ("Server", "Windows-Azure-Blob/1.0 Microsoft-HTTPAPI/2.0"),
            ("x-ms-request-id", request_id),
            ("x-ms-version", head.headers.get("x-ms-version", "2025-01-05")),
            ("x-ms-error-code", code),
        ]
        if "x-ms-client-request-id" in head.headers:
            headers.append(("x-ms-client-request-id", head.headers["x-ms-client-request-id"]))
    elif flavor == "s3":
        code, message = _S3_ERRORS.get(fault.status, ("InternalError", "Error."))
        code = fault.code or code
        message = fault.message or _S3_MESSAGES.get(code, message)
        host_id = uuid.uuid4().hex
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Error>'
            f"<Code>{code}</Code><Message>{message}</Message>"
            f"<Resource>{_xml_escape(head.path)}</Resource>"
            f"<RequestId>{request_id}</RequestId><HostId>{host_id}</HostId></Error>"
        ).encode()
        reason = _REASONS.get(fault.status, "Error")
        headers += [
            ("Content-Type", "application/xml"),
            ("Server", "AmazonS3"),
            ("x-amz-request-id", request_id),
            ("x-amz-id-2", host_id),
        ]
    else:
        reason = _REASONS.get(fault.status, "Error")
        body = f"{fault.status} {fault.message or reason}\n".encode()
        headers.append(("Content-Type", "text/plain"))
    headers += _retry_headers(fault)
    if head.method == "HEAD":
        body = b""
    headers.append(("Content-Length", str(len(body))))
    headers.append(("Connection", "keep-alive" if keep_alive else "close"))
    lines = [f"HTTP/1.1 {fault.status} {reason}"] + [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace") + body


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
