"""`ResilientStorageClient`: any `StorageClient` behind a circuit breaker and retries.

Every operation runs as::

    correlation scope -> retry (tenacity, backoff + jitter) -> circuit breaker -> inner call

and a call that finally fails is logged once by `log_storage_failure` (the body of the
original app's `log_azure_error`). Every logical call, success or failure, also makes one
INFO record on `OPERATION_LOGGER` (`crownsafe.storage.operations`): event
`storage_operation` with backend, container, operation, blob_name, size_bytes,
duration_seconds (the metrics' own measurement), outcome, attempts, error and the call's
correlation id, emitted inside the call's correlation scope; as JSON under LOG_FORMAT=json
(`crownsafe.jsonlog`). Nothing is built when INFO is off for that logger.

Cost: a call that succeeds at once (every call of a healthy service) runs straight
through `_run`: a clock read, the correlation id and deadline set, the breaker's lock-free
CLOSED path, the inner call, a clock read, the stats and the cached metric children (a
few dictionary lookups); no closure, no tenacity object, no log record unless INFO is on.
docs/storage-performance.md has the measured cost against the bare client.

The breaker sits inside the retry loop: each HTTP-level attempt
counts (when it is the service's fault: `CircuitBreaker.counts`). When an attempt's failure
leaves the breaker open (this one opened it, or another caller did), the loop stops at
once: no backoff is slept, and the caller gets that failure itself (e.g. the 503), not a
`CircuitOpenError`. A call the open breaker refuses gets a `CircuitOpenError` naming its
operation and blob. A call whose retries run out gets `StorageGaveUpError`, naming the
attempts or the deadline and the last failure (`crownsafe.resilience.retry`). All attempts
of one call share its correlation id, so the service's logs tie them together. The inner
clients make exactly one HTTP attempt per request (SDK retries off), so one logical call
makes at most `max_retries + 1` attempts, and no retry is started whose backoff would end
past the call's deadline (`deadline`, STORAGE_DEADLINE_SECONDS; see `crownsafe.resilience.retry`).

What is retried, per operation:

- `upload_file`: bytes and paths are re-sent whole. A seekable stream's position is
  remembered and restored before each retry. A non-seekable stream is retried only if no
  byte was read from it; otherwise the call fails with `NonRetryableUploadError` rather
  than sending a partial body.
- `download_blob`, `download_to` (to a path: the file is rewritten; to a seekable stream:
  it is rewound and truncated to where it started; to a non-seekable stream: no retry
  once a byte was written, the original error is raised).
- `iter_blob_chunks`: the request and the first chunk are retried; after the first chunk
  was yielded an error propagates unchanged (the consumer already holds part of the data).
- `iter_blobs`: a failure mid-listing restarts the listing and skips the names already
  yielded (both services list in UTF-8 binary order), within the same retry budget.
- Everything else is retried whole. Ambiguity after a lost response: a retried
  `delete_blob` that finds the blob gone reports True (an earlier attempt most likely
  deleted it); a retried `upload_file(overwrite=False)` or `create_container(exist_ok=False)`
  may report a conflict caused by its own earlier attempt.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, BinaryIO, Generic, NoReturn, Self, TypeVar, cast

from crownsafe.correlation import (
    correlation_scope,
    enter_correlation,
    exit_correlation,
    get_correlation_id,
    new_correlation_id,
)
from crownsafe.deadline import enter_deadline, exit_deadline
from crownsafe.errors import BlobNotFoundError, NonRetryableUploadError
from crownsafe.resilience import (
    CircuitBreaker,
    CircuitOpenError,
    Jitter,
    RetryPolicy,
    breaker_for_backend,
    is_retryable,
    log_storage_failure,
)
from crownsafe.storage._guards import ReadGuard, WriteGuard, is_seekable
from crownsafe.storage.base import (
    DEFAULT_CHUNK_SIZE,
    BlobInfo,
    ClosingContextManager,
    SasPermission,
    StorageClient,
    UploadData,
)
from crownsafe.storage.metrics import (
    ClientMetrics,
    StorageMetrics,
    error_label,
    storage_metrics,
)

if TYPE_CHECKING:
    from crownsafe.config import Settings

__all__ = [
    "OPERATION_LOGGER",
    "DownloadPlan",
    "OperationStats",
    "ResilienceCore",
    "ResilientStorageClient",
    "UploadPlan",
    "deleted",
    "download_plan",
    "read_once_failure",
    "resume_after",
    "upload_plan",
]

logger = logging.getLogger("crownsafe.resilience.retry")
OPERATION_LOGGER = "crownsafe.storage.operations"
"""The logger of the one line per storage call (INFO)."""
_operations = logging.getLogger(OPERATION_LOGGER)
R = TypeVar("R")
InnerT = TypeVar("InnerT")
DEFAULT_DEADLINE_SECONDS = 60.0
"""The overall deadline of one logical call (attempts + backoff), as STORAGE_DEADLINE_SECONDS."""
_DONE = object()
AfterFailure = Callable[[BaseException, int], BaseException | None]
"""(error, attempts) -> the error to end the call with instead, or None to go on."""


@dataclass
class OperationStats:
    calls: int = 0
    attempts: int = 0
    succeeded: int = 0
    failed: int = 0
    recovered: int = 0  # succeeded after at least one retry


class _Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ops: dict[str, OperationStats] = {}

    def record(self, operation: str, attempts: int, ok: bool) -> None:
        with self._lock:
            stats = self._ops.get(operation)
            if stats is None:
                stats = self._ops[operation] = OperationStats()
            stats.calls += 1
            stats.attempts += attempts
            if ok:
                stats.succeeded += 1
                stats.recovered += attempts > 1
            else:
                stats.failed += 1

    def snapshot(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {op: asdict(stats) for op, stats in self._ops.items()}

    def reset(self) -> None:
        with self._lock:
            self._ops.clear()


def _size_of(data: UploadData, length: int | None) -> int | None:
    """The bytes an upload of `data` sent (None when that cannot be known cheaply)."""
    if length is not None:
        return length
    if isinstance(data, bytes | bytearray):
        return len(data)
    if isinstance(data, memoryview):
        return data.nbytes
    if isinstance(data, str | os.PathLike):
        try:
            return os.path.getsize(data)
        except OSError:
            return None
    return None


def _identity(value: int) -> int:
    return value


def _blob_size(info: BlobInfo) -> int | None:
    return info.size


class _GiveUp(Exception):
    """Carries an error out of the retry loop without retrying it."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass
class UploadPlan:
    """How one upload is retried: the body to pass, what to do before a retry (rewind a
    seekable stream), what ends the call after a failure (a read-once source that was
    partly read) and how many bytes were sent."""

    body: Any
    sent: Callable[[], int | None]
    before_retry: Callable[[], None] | None = None
    after_failure: AfterFailure | None = None

    def count_uploaded(self, metrics: ClientMetrics) -> None:
        size = self.sent()
        if size:
            metrics.count_uploaded(size)


def read_once_failure(consumed: Callable[[], int], backend: str, blob_name: str) -> AfterFailure:
    """`after_failure` of a read-once source: a transient failure after some of it was
    read becomes `NonRetryableUploadError` (a retry would send a partial body)."""

    def after_failure(exc: BaseException, _: int) -> BaseException | None:
        read = consumed()
        if read and is_retryable(exc):
            return NonRetryableUploadError(
                f"upload from a non-seekable stream failed after {read} "
                f"bytes were read, so it cannot be retried: {exc}",
                backend=backend,
                operation="upload_file",
                blob_name=blob_name,
                status=getattr(exc, "status", None),
                error_code=getattr(exc, "error_code", None),
                request_id=getattr(exc, "request_id", None),
            )
        return None

    return after_failure


def upload_plan(backend: str, blob_name: str, data: Any, length: int | None) -> UploadPlan:
    """The retry plan of `upload_file(blob_name, data, length=length)` for `UploadData`."""
    if type(data) is bytes or isinstance(data, bytes | bytearray | memoryview | str | os.PathLike):
        return UploadPlan(data, functools.partial(_size_of, data, length))
    if is_seekable(data):
        start = data.tell()

        def rewind() -> None:
            data.seek(start)

        def sent() -> int | None:
            return length if length is not None else data.tell() - start

        return UploadPlan(data, sent, before_retry=rewind)
    guard = ReadGuard(data)

    def consumed() -> int:
        return guard.consumed

    return UploadPlan(
        guard, consumed, after_failure=read_once_failure(consumed, backend, blob_name)
    )


@dataclass
class DownloadPlan:
    """How one `download_to` is retried: the target to pass, a rewind before a retry (a
    seekable stream) or the rule that ends the call once bytes were written (a stream
    that cannot seek)."""

    target: Any
    before_retry: Callable[[], None] | None = None
    after_failure: AfterFailure | None = None


def download_plan(file: BinaryIO | os.PathLike[str] | str) -> DownloadPlan:
    if isinstance(file, str | os.PathLike):
        return DownloadPlan(file)
    if is_seekable(file):
        start = file.tell()

        def rewind() -> None:
            file.seek(start)
            file.truncate()

        return DownloadPlan(file, before_retry=rewind)
    guard = WriteGuard(file)

    def after_failure(exc: BaseException, _: int) -> BaseException | None:
        return exc if guard.written else None

    return DownloadPlan(guard, after_failure=after_failure)


def resume_after(last: str | None, info: BlobInfo) -> bool:
    """Whether a restarted listing has passed `last`, the name yielded before the failure
    (both services list in UTF-8 binary order)."""
    return last is None or info.name > last


def deleted(existed: bool, attempts: int) -> bool:
    """`delete_blob`'s answer: after a retry, a blob found gone was most likely deleted by
    the earlier attempt whose response was lost."""
    return existed or attempts > 1


class ResilienceCore(Generic[InnerT]):
    """What the sync and the async resilient clients share: the breaker, the retry policy,
    the stats, the metrics, the classification of a failed attempt and the log lines.
    Only the loop that runs one call (`_run`, awaited in the async client) differs."""

    def __init__(
        self,
        inner: InnerT,
        *,
        breaker: CircuitBreaker | None = None,
        retry: RetryPolicy | None = None,
        max_retries: int = 3,
        base_delay: float = 1.0,
        max_delay: float = 30.0,
        jitter: Jitter = "equal",
        sleep: Callable[[float], Any] | None = None,
        rng: Any = None,
        deadline: float | None = DEFAULT_DEADLINE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        metrics: StorageMetrics | None = None,
    ) -> None:
        self.inner: InnerT = inner
        backend: str = getattr(inner, "backend")  # noqa: B009 - both protocols have it
        self.backend = backend
        self.container_name: str = getattr(inner, "container_name")  # noqa: B009
        self.breaker = breaker or CircuitBreaker(f"{backend}-storage")
        self.retry = retry or RetryPolicy(
            max_retries=max_retries,
            base_delay=base_delay,
            max_delay=max_delay,
            jitter=jitter,
            sleep=sleep,
            rng=rng,
            deadline=deadline,
            clock=clock,
        )
        self._stats = _Stats()
        self._clock = clock
        exported = metrics if metrics is not None else storage_metrics()
        exported.watch_breaker(self.breaker, self.backend)
        self._metrics: ClientMetrics = exported.for_client(self.backend)

    @classmethod
    def from_settings(cls, client: InnerT, settings: Settings, **options: Any) -> Self:
        """Wrap `client` with STORAGE_MAX_RETRIES / STORAGE_RETRY_BASE_DELAY /
        STORAGE_DEADLINE_SECONDS and the process-wide breaker of its backend
        (`azure_storage_circuit_breaker` for Azure), which stays open for
        STORAGE_BREAKER_RECOVERY_SECONDS (one value per process, like the breaker)."""
        backend: str = getattr(client, "backend")  # noqa: B009 - both protocols have it
        breaker = options.setdefault("breaker", breaker_for_backend(backend))
        breaker.recovery_timeout = settings.storage_breaker_recovery_seconds
        metrics = options.get("metrics") or storage_metrics()
        metrics.set_quota(backend, settings.storage_quota_bytes)
        options.setdefault("max_retries", settings.storage_max_retries)
        options.setdefault("base_delay", settings.storage_retry_base_delay)
        options.setdefault("deadline", settings.storage_deadline_seconds)
        return cls(client, **options)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.inner!r}, breaker={self.breaker!r})"

    def stats(self) -> dict[str, dict[str, int]]:
        """Per operation: calls, attempts, succeeded, failed, recovered."""
        return self._stats.snapshot()

    def reset_stats(self) -> None:
        self._stats.reset()

    def _attempt_failed(
        self,
        operation: str,
        blob_name: str | None,
        exc: Exception,
        attempts: int,
        after_failure: AfterFailure | None,
    ) -> BaseException:
        """What a failed attempt raises into the retry loop: `exc` itself (tenacity decides
        whether to retry it) or a `_GiveUp` that ends the loop with the error it carries
        (the breaker refused or is open now, or `after_failure` replaced the error)."""
        if isinstance(exc, CircuitOpenError):
            return _GiveUp(exc.for_call(operation, blob_name, self.backend))
        if after_failure is not None:
            replacement = after_failure(exc, attempts)
            if replacement is not None:
                give_up = _GiveUp(replacement)
                give_up.__cause__ = exc
                return give_up
        if self.breaker.counts(exc) and self.breaker.is_open:
            self._breaker_stopped(operation, blob_name, attempts, exc)
            return _GiveUp(exc)
        return exc

    def _succeeded(
        self,
        operation: str,
        blob_name: str | None,
        attempts: int,
        began: float,
        size: Callable[[Any], int | None] | None,
        result: Any,
    ) -> None:
        """Stats, metrics and the operation's log line of a call that succeeded."""
        seconds = self._clock() - began
        self._stats.record(operation, attempts, ok=True)
        self._metrics.record(operation, seconds, attempts, None)
        if _operations.isEnabledFor(logging.INFO):
            moved = size(result) if size is not None else None
            self._log_operation(operation, blob_name, seconds, attempts, None, moved)

    def _recover(
        self,
        first: Exception,
        operation: str,
        blob_name: str | None,
        fn: Callable[..., R],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        before_retry: Callable[[], None] | None,
        after_failure: Callable[[BaseException, int], BaseException | None] | None,
        at: float | None,
        record: bool,
        began: float,
    ) -> tuple[R, int]:
        """Attempt 1 raised `first`: judge it, then let the retry policy make attempts
        2 .. max_retries + 1 (inside the call's correlation and deadline scopes). Returns
        the result and the attempts made; a call that finally fails goes to `_failed`."""
        attempts = 1

        def judged(exc: Exception) -> BaseException:
            """What the loop sees of an attempt's failure: `_GiveUp` stops it."""
            return self._attempt_failed(operation, blob_name, exc, attempts, after_failure)

        def attempt() -> R:
            nonlocal attempts
            attempts += 1
            if before_retry is not None:
                before_retry()
            try:
                return self.breaker.call(fn, *args, **kwargs)
            except Exception as exc:
                seen = judged(exc)
                if seen is exc:
                    raise
                raise seen from seen.__cause__

        try:
            seen = judged(first)
            if isinstance(seen, _GiveUp):
                raise seen from seen.__cause__
            result = self.retry.retry_after(first, at, attempt)
        except _GiveUp as give_up:
            self._failed(operation, blob_name, give_up.error, attempts, record, began)
        except Exception as exc:
            self._failed(operation, blob_name, exc, attempts, record, began)
        return result, attempts

    def _log_operation(
        self,
        operation: str,
        blob_name: str | None,
        seconds: float,
        attempts: int,
        error: BaseException | None,
        size: int | None,
    ) -> None:
        """The call's one structured line (inside its correlation scope)."""
        outcome = "success" if error is None else "error"
        failure = error_label(error) if error is not None else None
        cid = get_correlation_id()
        _operations.info(
            "storage %s %s: backend=%s container=%s blob=%r size=%s duration=%.3fs attempts=%d%s",
            operation,
            outcome,
            self.backend,
            self.container_name,
            blob_name,
            size,
            seconds,
            attempts,
            f" error={failure}" if failure else "",
            extra={
                "event": "storage_operation",
                "backend": self.backend,
                "container": self.container_name,
                "operation": operation,
                "blob_name": blob_name,
                "size_bytes": size,
                "duration_seconds": seconds,
                "outcome": outcome,
                "attempts": attempts,
                "error": failure,
                "correlation_id": cid,
            },
        )

    def _breaker_stopped(
        self, operation: str, blob_name: str | None, attempts: int, exc: BaseException
    ) -> None:
        """The breaker is open after this attempt's failure: no backoff, no more attempts
        (they would only be refused); the failure itself is what the caller gets."""
        logger.warning(
            "not retrying %s %r after attempt %d/%d: circuit breaker %r is open "
            "(this failure: %s) [correlation_id=%s]",
            operation,
            blob_name,
            attempts,
            self.retry.max_attempts,
            self.breaker.name,
            type(exc).__name__,
            get_correlation_id(),
            extra={"operation": operation, "blob_name": blob_name, "breaker": self.breaker.name},
        )

    def _failed(
        self,
        operation: str,
        blob_name: str | None,
        exc: BaseException,
        attempts: int,
        record: bool,
        began: float,
    ) -> NoReturn:
        if record:
            seconds = self._clock() - began
            self._stats.record(operation, attempts, ok=False)
            self._metrics.record(operation, seconds, attempts, exc)
            if _operations.isEnabledFor(logging.INFO):
                self._log_operation(operation, blob_name, seconds, attempts, exc, None)
        log_storage_failure(exc, operation=operation, blob_name=blob_name)
        raise exc


class ResilientStorageClient(ResilienceCore[StorageClient], ClosingContextManager):
    """A `StorageClient` that adds a circuit breaker, retries and correlation ids."""

    # -- the one code path --------------------------------------------------------------

    def _run(
        self,
        operation: str,
        blob_name: str | None,
        fn: Callable[..., R],
        *args: Any,
        before_retry: Callable[[], None] | None = None,
        after_failure: Callable[[BaseException, int], BaseException | None] | None = None,
        record: bool = True,
        size: int | Callable[[R], int | None] | None = None,
        **kwargs: Any,
    ) -> R:
        """Run one logical call; `size` is (or gives, from the result) the bytes it moved
        (for the log).

        The happy path (attempt 1 succeeds) is straight-line: a clock read, the
        correlation id and the deadline set, the breaker's lock-free CLOSED path, the
        call, then the stats and the metric children (dictionary lookups). Nothing is
        built per call for the retries: `_recover` makes the closure and hands it to the
        retry policy only after attempt 1 failed.
        """
        retry = self.retry
        clock = retry.clock
        start = clock()
        began = start if clock is self._clock else self._clock()
        deadline = retry.deadline
        at = None if deadline is None else start + deadline
        token = enter_correlation()
        deadline_token = None if at is None else enter_deadline(at, clock)
        try:
            try:
                result = self.breaker.call(fn, *args, **kwargs)
                attempts = 1
            except Exception as first:
                result, attempts = self._recover(
                    first, operation, blob_name, fn, args, kwargs,
                    before_retry, after_failure, at, record, began,
                )  # fmt: skip
            if record:
                seconds = self._clock() - began
                self._stats.record(operation, attempts, ok=True)
                self._metrics.record(operation, seconds, attempts, None)
                if _operations.isEnabledFor(logging.INFO):
                    moved = size(result) if callable(size) else size
                    self._log_operation(operation, blob_name, seconds, attempts, None, moved)
            return result
        finally:
            if deadline_token is not None:
                exit_deadline(deadline_token)
            exit_correlation(token)

    # -- uploads ------------------------------------------------------------------------

    def upload_file(
        self,
        blob_name: str,
        data: UploadData,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        overwrite: bool = True,
        *,
        length: int | None = None,
    ) -> str:
        if length is None and type(data) is bytes:
            # the common case, kept short: nothing to rewind, the size known
            url = self._run(
                "upload_file", blob_name, self.inner.upload_file, blob_name, data,
                content_type, metadata, overwrite, size=len(data),
            )  # fmt: skip
            if data:
                self._metrics.count_uploaded(len(data))
            return url
        plan = upload_plan(self.backend, blob_name, data, length)
        url = self._run(
            "upload_file",
            blob_name,
            self.inner.upload_file,
            blob_name,
            plan.body,
            content_type,
            metadata,
            overwrite,
            before_retry=plan.before_retry,
            after_failure=plan.after_failure,
            size=lambda _url: plan.sent(),
            # only when given: an inner client written before `length` still works
            **cast(dict[str, Any], {"length": length} if length is not None else {}),
        )
        plan.count_uploaded(self._metrics)
        return url

    # -- downloads ----------------------------------------------------------------------

    def download_blob(self, blob_name: str) -> bytes:
        data = self._run("download_blob", blob_name, self.inner.download_blob, blob_name, size=len)
        self._metrics.count_downloaded(len(data))
        return data

    def download_to(self, blob_name: str, file: BinaryIO | os.PathLike[str] | str) -> int:
        written = self._download_to(blob_name, file)
        self._metrics.count_downloaded(written)
        return written

    def _download_to(self, blob_name: str, file: BinaryIO | os.PathLike[str] | str) -> int:
        plan = download_plan(file)
        return self._run(
            "download_to",
            blob_name,
            self.inner.download_to,
            blob_name,
            plan.target,
            before_retry=plan.before_retry,
            after_failure=plan.after_failure,
            size=_identity,
        )

    def iter_blob_chunks(
        self, blob_name: str, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> Iterator[bytes]:
        """Stream chunks; retried until the first chunk is in hand, never after."""
        cid = get_correlation_id() or new_correlation_id()

        def first() -> tuple[Iterator[bytes], bytes | None]:
            chunks = iter(self.inner.iter_blob_chunks(blob_name, chunk_size))
            return chunks, next(chunks, None)

        with correlation_scope(cid):
            chunks, head = self._run("iter_blob_chunks", blob_name, first)
        return self._rest_of_chunks(cid, blob_name, chunks, head)

    def _rest_of_chunks(
        self, cid: str, blob_name: str, chunks: Iterator[bytes], head: bytes | None
    ) -> Iterator[bytes]:
        if head is None:
            return
        downloaded = self._metrics.count_downloaded
        downloaded(len(head))
        yield head
        while True:
            with correlation_scope(cid):
                try:
                    chunk = next(chunks, None)
                except Exception as exc:
                    log_storage_failure(exc, operation="iter_blob_chunks", blob_name=blob_name)
                    raise
            if chunk is None:
                return
            downloaded(len(chunk))
            yield chunk

    # -- listing ------------------------------------------------------------------------

    def list_blobs(
        self, prefix: str | None = None, max_results: int | None = None
    ) -> list[BlobInfo]:
        return self._run("list_blobs", None, self.inner.list_blobs, prefix, max_results)

    def iter_blobs(
        self, prefix: str | None = None, page_size: int | None = None
    ) -> Iterator[BlobInfo]:
        """Iterate all blobs; a failure mid-way resumes after the last name yielded."""
        state: dict[str, Any] = {"it": None, "last": None}

        def advance() -> Any:
            try:
                if state["it"] is None:
                    fresh = iter(self.inner.iter_blobs(prefix, page_size))
                    state["it"] = fresh
                    if state["last"] is not None:
                        for info in fresh:
                            if resume_after(state["last"], info):
                                return info
                        return _DONE
                return next(state["it"], _DONE)
            except BaseException:
                state["it"] = None
                raise

        cid = get_correlation_id() or new_correlation_id()
        while True:
            with correlation_scope(cid):
                item = self._run("iter_blobs", None, advance, record=False)
            if item is _DONE:
                return
            state["last"] = item.name
            yield item

    # -- the rest -----------------------------------------------------------------------

    def generate_sas_url(
        self, blob_name: str, expiry_hours: float = 24, permission: SasPermission = "r"
    ) -> str:
        return self._run(
            "generate_sas_url",
            blob_name,
            self.inner.generate_sas_url,
            blob_name,
            expiry_hours,
            permission,
        )

    def blob_exists(self, blob_name: str) -> bool:
        return self._run("blob_exists", blob_name, self.inner.blob_exists, blob_name)

    def head_object(self, blob_name: str) -> BlobInfo:
        return self._run(
            "head_object", blob_name, self.inner.head_object, blob_name, size=_blob_size
        )

    def delete_blob(self, blob_name: str, missing_ok: bool = False) -> bool:
        attempts = 0

        def delete() -> bool:
            nonlocal attempts
            attempts += 1
            try:
                existed = self.inner.delete_blob(blob_name, missing_ok)
            except BlobNotFoundError:
                if attempts > 1:
                    return True  # an earlier attempt whose response was lost deleted it
                raise
            return deleted(existed, attempts)

        return self._run("delete_blob", blob_name, delete)

    def get_blob_url(self, blob_name: str) -> str:
        return self.inner.get_blob_url(blob_name)

    def create_container(self, exist_ok: bool = True) -> None:
        self._run("create_container", None, self.inner.create_container, exist_ok)

    def delete_container(self, missing_ok: bool = True) -> None:
        self._run("delete_container", None, self.inner.delete_container, missing_ok)

    def close(self) -> None:
        self.inner.close()
