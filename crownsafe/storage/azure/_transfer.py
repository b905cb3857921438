"""How requests and bytes leave the Azure client: pipeline options, correlation, streams.

No azure.storage.blob import here (azure.py is the SDK adapter); only azure.core's
policy base class.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Sequence
from typing import IO, Any

from azure.core.exceptions import ServiceResponseError
from azure.core.pipeline import PipelineRequest
from azure.core.pipeline.policies import SansIOHTTPPolicy
from azure.core.pipeline.transport import HttpRequest, RequestsTransport

from crownsafe.correlation import CORRELATION_HEADER_AZURE, get_correlation_id
from crownsafe.deadline import time_left
from crownsafe.storage._pieces import Piece, read_pieces, total_length

__all__ = [
    "DEFAULT_MAX_CONNECTIONS",
    "DOWNLOAD_RANGE_SIZE",
    "WHOLE_BLOB_GET_SIZE",
    "AttemptGuard",
    "BufferReader",
    "CorrelationIdPolicy",
    "CountingReader",
    "MiB",
    "OneAttemptPolicy",
    "PooledRequestsTransport",
    "RepeatedRequestError",
    "call_options",
    "pipeline_options",
    "remaining_length",
    "request_hook",
    "shared_transport",
    "verify_from_settings",
]

MiB = 1024 * 1024
DOWNLOAD_RANGE_SIZE = 4 * MiB
"""First GET and every further ranged GET of the streaming downloads (`download_to`,
`iter_blob_chunks`): they hold at most a few pieces of this size in memory."""
WHOLE_BLOB_GET_SIZE = 32 * MiB
"""First GET of `download_blob`, which returns the whole blob as bytes anyway: one request
up to this size (the SDK's default), further ranges of `DOWNLOAD_RANGE_SIZE` beyond it.
Ranged GETs of 4 MiB made a 10 MiB download ~2x slower than the SDK's single GET."""
RESPONSE_READ_BLOCK = 256 * 1024
"""Bytes read from a response body at a time: azure-storage-blob's own default (its
DATA_BLOCK_SIZE); an azure-core transport built without it would read 4 KiB at a time."""


class CorrelationIdPolicy(SansIOHTTPPolicy[Any, Any]):
    """Sends the current correlation id as `x-ms-client-request-id` (else the SDK's own id).

    The id is read from the per-call option `OPTION` (set by `call_options`, because the
    SDK's worker threads for parallel blocks and ranges do not inherit context variables)
    or else from `crownsafe.correlation`.
    """

    OPTION = "crownsafe_correlation_id"

    def on_request(self, request: PipelineRequest[Any]) -> None:
        correlation_id = request.context.options.pop(self.OPTION, None) or get_correlation_id()
        if correlation_id:
            request.http_request.headers[CORRELATION_HEADER_AZURE] = correlation_id


class RepeatedRequestError(ServiceResponseError):
    """The SDK tried to send a request again inside one logical call; crownsafe stopped it.

    `StorageStreamDownloader` re-sends a ranged GET up to 3 times (sleeping 1 s) when a
    response body is cut short, whatever `retry_total` says. Retries belong to the
    resilient layer, so the repeat is refused before it reaches the network.
    """


class AttemptGuard:
    """Remembers the requests of one logical call; the same request twice is refused."""

    def __init__(self) -> None:
        self._seen: set[tuple[str, str, str | None, str | None]] = set()
        self._lock = threading.Lock()

    def admit(self, request: HttpRequest) -> None:
        headers = request.headers
        key = (request.method, request.url, headers.get("x-ms-range"), headers.get("Range"))
        with self._lock:
            if key in self._seen:
                raise RepeatedRequestError(
                    "the response was cut short and the SDK tried to send the same request "
                    "again; crownsafe makes one attempt per request (the resilient layer retries)"
                )
            self._seen.add(key)


class OneAttemptPolicy(SansIOHTTPPolicy[Any, Any]):
    """Enforces one HTTP attempt per distinct request of a logical call (see AttemptGuard)."""

    OPTION = "crownsafe_attempt_guard"

    def on_request(self, request: PipelineRequest[Any]) -> None:
        guard = request.context.options.pop(self.OPTION, None)
        if isinstance(guard, AttemptGuard):
            guard.admit(request.http_request)


MIN_CAPPED_TIMEOUT = 0.01
"""The shortest timeout a request gets when its call's deadline is (almost) reached."""


def call_options(
    timeout: float | None = None, connect_timeout: float | None = None
) -> dict[str, Any]:
    """Per-call SDK keyword arguments read by the request policies above.

    With `timeout` (the client's read timeout) and `connect_timeout` (its connect timeout,
    default `timeout`) inside a call whose deadline (`crownsafe.deadline`) leaves less
    time than one of them, that timeout is capped to the time left (azure-core's transport
    takes both per call); both are sent together once one is capped.
    """
    options: dict[str, Any] = {OneAttemptPolicy.OPTION: AttemptGuard()}
    correlation_id = get_correlation_id()
    if correlation_id:
        options[CorrelationIdPolicy.OPTION] = correlation_id
    left = time_left() if timeout is not None else None
    if left is not None and timeout is not None:
        connect = timeout if connect_timeout is None else connect_timeout
        if left < timeout or left < connect:
            left = max(left, MIN_CAPPED_TIMEOUT)
            options["connection_timeout"] = min(connect, left)
            options["read_timeout"] = min(timeout, left)
    return options


def request_hook(
    policies: Sequence[SansIOHTTPPolicy[Any, Any]],
) -> Callable[[PipelineRequest[Any]], None]:
    """One `raw_request_hook` running `policies` in order.

    azure-storage-blob builds its own pipeline and ignores `per_call_policies`, and a policy
    appended at the end would run after SharedKey signing (which covers `x-ms-*` headers).
    The client's `raw_request_hook` runs after the SDK sets its random request id and
    before the request is signed: the right place for these policies.
    """

    def hook(request: PipelineRequest[Any]) -> None:
        for policy in policies:
            policy.on_request(request)

    return hook


class BufferReader(io.RawIOBase):
    """A seekable read-only stream over a bytes-like object, without copying it whole."""

    def __init__(self, data: bytearray | memoryview) -> None:
        self._view = memoryview(data).cast("B")
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        """One copy (io.RawIOBase.read would copy twice, via a bytearray)."""
        end = len(self._view) if size is None or size < 0 else self._pos + size
        chunk = bytes(self._view[self._pos : end])
        self._pos += len(chunk)
        return chunk

    def readall(self) -> bytes:
        return self.read()

    def readinto(self, buffer: Any) -> int:
        chunk = self._view[self._pos : self._pos + len(buffer)]
        memoryview(buffer).cast("B")[: len(chunk)] = chunk
        self._pos += len(chunk)
        return len(chunk)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: len(self._view)}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos


class CountingReader:
    """Wraps a non-seekable stream and counts what the SDK consumed from it."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self.consumed = 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self.consumed += len(data or b"")
        return data

    def read1(self, size: int = -1, /) -> bytes:
        """The stream's `read1` when it has one (a piece as it is), else `read`."""
        data = getattr(self._stream, "read1", self._stream.read)(size) or b""
        self.consumed += len(data)
        return data

    def read_pieces(self, size: int, /) -> list[Piece]:
        """`size` bytes as the stream's pieces (`crownsafe.storage._pieces.read_pieces`)."""
        pieces = read_pieces(self._stream, size)
        self.consumed += total_length(pieces)
        return pieces

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False


def verify_from_settings(value: str) -> bool | str | None:
    lowered = value.strip().lower()
    if not lowered:
        return None
    if lowered in {"0", "false", "no", "off"}:
        return False
    if lowered in {"1", "true", "yes", "on"}:
        return True
    return value.strip()


def remaining_length(stream: IO[bytes]) -> int | None:
    try:
        position = stream.tell()
        end = stream.seek(0, io.SEEK_END)
        stream.seek(position, io.SEEK_SET)
        return end - position
    except (AttributeError, OSError, ValueError):
        return None


class PooledRequestsTransport(RequestsTransport):  # type: ignore[misc]  # azure-core: Any
    """azure-core's requests transport with a connection pool of `max_connections`.

    azure-core mounts requests' adapter with its default pool (10 connections per host,
    `pool_maxsize`) and takes no option for it; this transport mounts the same adapter
    class, with the same no-retry policy, sized to `max_connections`. Callers beyond it
    are not blocked: urllib3 opens an extra connection for the request and closes it
    afterwards (non-blocking pool), which is what the pool benchmark measures.
    """

    def __init__(self, *, max_connections: int, **kwargs: Any) -> None:
        if max_connections < 1:
            raise ValueError(f"max_connections must be >= 1, got {max_connections}")
        self.max_connections = max_connections
        super().__init__(**kwargs)

    def _init_session(self, session: Any) -> None:
        super()._init_session(session)
        for prefix in self._protocols:
            mounted = session.get_adapter(prefix)
            session.mount(
                prefix,
                type(mounted)(max_retries=mounted.max_retries, pool_maxsize=self.max_connections),
            )


DEFAULT_MAX_CONNECTIONS = 10
"""requests' own pool size, used when a caller gives none (the settings give theirs)."""


def shared_transport(
    *,
    timeout: float,
    connection_verify: bool | str | None,
    connect_timeout: float | None = None,
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
) -> RequestsTransport:
    """One HTTP transport (one connection pool of `max_connections`) for all of a crownsafe
    client's SDK clients; `connect_timeout` defaults to `timeout` (the read timeout)."""
    options: dict[str, Any] = {
        "connection_timeout": timeout if connect_timeout is None else connect_timeout,
        "read_timeout": timeout,
        "connection_data_block_size": RESPONSE_READ_BLOCK,
    }
    if connection_verify is not None:
        options["connection_verify"] = connection_verify
    return PooledRequestsTransport(max_connections=max_connections, **options)


def pipeline_options(
    *,
    timeout: float,
    request_policies: Sequence[SansIOHTTPPolicy[Any, Any]],
    single_put_threshold: int,
    block_size: int,
    connection_verify: bool | str | None,
    connect_timeout: float | None = None,
) -> dict[str, Any]:
    """Keyword arguments for `BlobServiceClient`: SDK retries off, timeouts, sizes, hooks.

    `retry_total=0` keeps the SDK's ExponentialRetry in place with no retries (one HTTP
    attempt per request); no other retry policy is passed.
    """
    options: dict[str, Any] = {
        "retry_total": 0,
        "connection_timeout": timeout if connect_timeout is None else connect_timeout,
        "read_timeout": timeout,
        "raw_request_hook": request_hook(request_policies),
        "max_single_put_size": int(single_put_threshold),
        "max_block_size": int(block_size),
        "max_single_get_size": DOWNLOAD_RANGE_SIZE,
        "max_chunk_get_size": DOWNLOAD_RANGE_SIZE,
    }
    if connection_verify is not None:
        options["connection_verify"] = connection_verify
    return options
