"""Retries with capped exponential backoff and jitter, on tenacity, for sync and async code.

The delay before retry `n` (n = 1 for the first retry, i.e. after attempt n failed) is::

    ceiling(n) = min(max_delay, base_delay * 2 ** (n - 1))        # 1, 2, 4, 8 ... s
    delay(n)   = ceiling(n) * (1 - jitter * u),  u = rng.random() in [0, 1)

so every delay lies in the envelope ``((1 - jitter) * ceiling(n), ceiling(n)]`` and never
exceeds `max_delay`. `jitter` is a fraction in [0, 1] or a name: "full" (1.0: AWS "full
jitter", uniform in (0, ceiling]), "equal" (0.5, the default: uniform in (ceiling/2,
ceiling]) or "none" (0.0: exactly 1, 2, 4, 8 s).

When the service says when to come back (`StorageThrottledError.retry_after`, parsed by
the clients from `Retry-After` or `x-ms-retry-after-ms`), the delay is
``min(max_delay, max(retry_after, delay(n)))``: never sooner than asked, never longer than
the cap.

Retried: `StorageThrottledError` (429, 503 ServerBusy / SlowDown), `StorageUnavailableError`
(other 5xx, 408, timeouts, connection errors) and the builtin `ConnectionError` /
`TimeoutError`. Never retried: a caller's mistake (404, 409, 412, 401/403, invalid names or
metadata), 501 Not Implemented (`StorageNotSupportedError`: permanent),
`NonRetryableUploadError`, `CircuitOpenError` and anything else.
One logical call makes at most `max_retries + 1` attempts. Each retry is logged at WARNING
with the correlation id, the attempt number, the delay and the error's service fields.

When retrying stops on a transient failure, because the attempts ran out or because the
next backoff would pass the deadline, the call raises `StorageGaveUpError` (a
`StorageUnavailableError`) that says so: which limit ended it, the attempts made, the
deadline, the time spent and the last failure (its type, message, status, service code,
request id and Retry-After; the failure itself is `last_error` and `__cause__`). With
`max_retries=0` nothing is retried and the failure is raised as it is.

Deadline. With `deadline` (seconds; STORAGE_DEADLINE_SECONDS, default 60 in the resilient
client) one logical call also stops retrying when the next backoff would end at or past
`start + deadline` (`start` = the first attempt, on the injectable `clock`). The call runs
inside `crownsafe.deadline.deadline_scope`, so an adapter that can set per-call timeouts
(Azure) caps each attempt's timeout by the time left. Worst case for one call against an
endpoint that accepts and never answers: about `deadline` where attempts are capped
(Azure), below `deadline + timeout` where they are not (S3: the AWS SDK's timeouts are per
client); without a deadline `(max_retries + 1) * timeout + sum of the backoffs`.
The stop is `stop_after_attempt(...) | StopAtDeadline(...)`: tenacity's own
`stop_after_delay` measures from tenacity's start (after our first attempt on the sync
path) on `time.monotonic`, which a test cannot move, hence the small strategy below.
In sync code the first attempt runs before tenacity is involved (the happy path costs a
function call); tenacity drives the retries. `RetryPolicy.retry_after(first, at, fn)` is
that second half on its own, for a caller that makes attempt 1 itself (the resilient
client does: its happy path then builds nothing for the retries at all).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, ParamSpec, Protocol, TypeVar

import tenacity
from tenacity.asyncio import AsyncRetrying

from crownsafe.correlation import get_correlation_id
from crownsafe.deadline import enter_deadline, exit_deadline
from crownsafe.errors import (
    NonRetryableUploadError,
    StorageError,
    StorageGaveUpError,
    StorageThrottledError,
    StorageUnavailableError,
)
from crownsafe.resilience.breaker import CircuitOpenError
from crownsafe.resilience.decorating import CallDecorator

__all__ = [
    "Backoff",
    "Jitter",
    "RetryPolicy",
    "StopAtDeadline",
    "is_retryable",
    "retry_with_exponential_backoff",
]

logger = logging.getLogger("crownsafe.resilience.retry")

P = ParamSpec("P")
R = TypeVar("R")

Jitter = float | Literal["full", "equal", "none"]
_JITTER_NAMES: dict[str, float] = {"full": 1.0, "equal": 0.5, "none": 0.0}


class RandomSource(Protocol):
    def random(self) -> float: ...


def _jitter_fraction(jitter: Jitter) -> float:
    value = _JITTER_NAMES[jitter] if isinstance(jitter, str) else float(jitter)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"jitter must be 'full', 'equal', 'none' or in [0, 1], not {jitter!r}")
    return value


@dataclass(frozen=True)
class Backoff:
    """The delay schedule (pure arithmetic, see the module docstring for the formula)."""

    base_delay: float = 1.0
    max_delay: float = 30.0
    jitter: float = 0.5

    def __post_init__(self) -> None:
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("base_delay and max_delay must be >= 0")

    def ceiling(self, retry_number: int) -> float:
        """The un-jittered delay before retry `retry_number` (1-based), capped."""
        exponent = min(max(retry_number, 1) - 1, 64)
        return min(self.max_delay, self.base_delay * 2.0**exponent)

    def envelope(self, retry_number: int) -> tuple[float, float]:
        """The (lowest, highest) delay the jitter can produce for this retry."""
        top = self.ceiling(retry_number)
        return (1.0 - self.jitter) * top, top

    def delay(self, retry_number: int, u: float, retry_after: float | None = None) -> float:
        """The delay for `retry_number` given a uniform draw `u` in [0, 1)."""
        computed = self.ceiling(retry_number) * (1.0 - self.jitter * u)
        if retry_after is not None and retry_after >= 0:
            computed = max(computed, retry_after)
        return min(self.max_delay, computed)


def is_retryable(exc: BaseException) -> bool:
    """True for transient failures: throttling, 5xx, 408, timeouts, connection errors.

    Never for an error that already ended a retry loop (`StorageGaveUpError`), nor for
    501 Not Implemented (`StorageNotSupportedError`, not an unavailable service).
    """
    if isinstance(exc, (NonRetryableUploadError, CircuitOpenError, StorageGaveUpError)):
        return False
    return isinstance(
        exc, (StorageThrottledError, StorageUnavailableError, ConnectionError, TimeoutError)
    )


class StopAtDeadline(tenacity.stop.stop_base):
    """Stop when the upcoming sleep would end at or past `at` (seconds on `clock`)."""

    def __init__(
        self,
        at: float,
        clock: Callable[[], float],
        on_stop: Callable[[tenacity.RetryCallState], None] | None = None,
    ) -> None:
        self.at, self.clock, self.on_stop = at, clock, on_stop

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        if self.clock() + (retry_state.upcoming_sleep or 0.0) < self.at:
            return False
        if self.on_stop is not None:
            self.on_stop(retry_state)
        return True


class RetryPolicy(CallDecorator):
    """A reusable retry policy; call `.call(fn, ...)`, `await .call_async(fn, ...)` or decorate."""

    def __init__(
        self,
        *,
        max_retries: int = 3,
        base_delay: float = 1.0,
        max_delay: float = 30.0,
        jitter: Jitter = "equal",
        sleep: Callable[[float], Any] | None = None,
        rng: RandomSource | None = None,
        retry_on: Callable[[BaseException], bool] = is_retryable,
        operation: str | None = None,
        deadline: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if deadline is not None and not (deadline > 0 and math.isfinite(deadline)):
            raise ValueError(f"deadline must be a positive number of seconds, not {deadline!r}")
        self.max_retries = max_retries
        self.deadline = deadline
        self.clock = clock
        """The clock of the deadline (seconds, monotonic; injectable for tests)."""
        self.backoff = Backoff(base_delay, max_delay, _jitter_fraction(jitter))
        self._sleep = sleep
        self._rng: RandomSource = rng if rng is not None else random.Random()
        self._retry_on = retry_on
        self.operation = operation
        common: dict[str, Any] = {
            "stop": tenacity.stop_after_attempt(max_retries + 1),
            "wait": self._wait,
            "retry": tenacity.retry_if_exception(retry_on),
            "before_sleep": self._log_retry,
            "reraise": True,
        }
        self._sync_sleep: Callable[[float], Any] = sleep or time.sleep
        self._async = AsyncRetrying(sleep=self._async_sleep, **common)
        # The sync path makes attempt 1 itself (free on the happy path); tenacity then
        # drives attempts 2 .. max_retries + 1, its attempt numbers shifted by one.
        self._sync_rest = tenacity.Retrying(
            sleep=self._sync_sleep,
            stop=tenacity.stop_after_attempt(max(1, max_retries)),
            wait=self._wait_rest,
            retry=tenacity.retry_if_exception(retry_on),
            before_sleep=self._log_retry_rest,
            reraise=True,
        )

    @property
    def max_attempts(self) -> int:
        return self.max_retries + 1

    def delay_for(self, retry_number: int, exc: BaseException | None = None) -> float:
        """Draw the delay before retry `retry_number` after `exc` (uses the rng)."""
        retry_after = getattr(exc, "retry_after", None)
        return self.backoff.delay(
            retry_number,
            self._rng.random(),
            retry_after if isinstance(retry_after, (int, float)) else None,
        )

    def call(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        if self.deadline is None:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                return self.retry_after(exc, None, fn, *args, **kwargs)
        at = self.clock() + self.deadline
        token = enter_deadline(at, self.clock)
        try:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                return self.retry_after(exc, at, fn, *args, **kwargs)
        finally:
            exit_deadline(token)

    def retry_after(
        self,
        first: Exception,
        at: float | None,
        fn: Callable[P, R],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R:
        """Attempts 2 .. max_retries + 1 of a call whose first attempt raised `first`.

        For a caller that makes attempt 1 itself (the resilient client's hot path does, so
        a call that succeeds at once costs no tenacity set-up at all). `at` is the call's
        deadline on `self.clock` (None without one; the caller holds the deadline scope
        open around both). Re-raises `first` when it is not retried.
        """
        if self.max_retries == 0 or not self._retry_on(first):
            raise first
        began = self.clock() if at is None else at - (self.deadline or 0.0)
        delay = self.delay_for(1, first)
        if at is not None and self.clock() + delay >= at:
            self._log_deadline(1, first, delay, fn)
            raise self._gave_up(first, 1, began, deadline_delay=delay) from first
        self._log(1, first, delay, fn)
        self._sync_sleep(delay)
        ended = _DeadlineStop()
        if at is None:
            rest = self._sync_rest.copy()
        else:
            stop = tenacity.stop_after_attempt(max(1, self.max_retries)) | StopAtDeadline(
                at, self.clock, lambda state: ended.note(self._log_deadline_state(state, 1))
            )
            rest = self._sync_rest.copy(stop=stop)
        try:
            return rest(fn, *args, **kwargs)
        except Exception as exc:
            if not self._retry_on(exc):
                raise
            attempts = 1 + int(rest.statistics.get("attempt_number", 1))
            raise self._gave_up(exc, attempts, began, deadline_delay=ended.delay) from exc

    async def call_async(
        self, fn: Callable[P, Awaitable[R]], /, *args: P.args, **kwargs: P.kwargs
    ) -> R:
        if self.deadline is None:
            began = self.clock()
            retrying = self._async.copy()
            try:
                result: R = await retrying(fn, *args, **kwargs)
            except Exception as exc:
                raise self._async_failure(exc, retrying, began, None) from exc
            return result
        at = self.clock() + self.deadline
        ended = _DeadlineStop()
        stop = tenacity.stop_after_attempt(self.max_retries + 1) | StopAtDeadline(
            at, self.clock, lambda state: ended.note(self._log_deadline_state(state, 0))
        )
        token = enter_deadline(at, self.clock)
        retrying = self._async.copy(stop=stop)
        try:
            result = await retrying(fn, *args, **kwargs)
        except Exception as exc:
            raise self._async_failure(exc, retrying, at - self.deadline, ended.delay) from exc
        finally:
            exit_deadline(token)
        return result

    def _async_failure(
        self, exc: Exception, retrying: AsyncRetrying, began: float, deadline_delay: float | None
    ) -> Exception:
        """What an async call raises when tenacity ends with `exc`."""
        if self.max_retries == 0 or not self._retry_on(exc):
            return exc
        attempts = int(retrying.statistics.get("attempt_number", 1))
        return self._gave_up(exc, attempts, began, deadline_delay=deadline_delay)

    def _gave_up(
        self,
        last: BaseException,
        attempts: int,
        began: float,
        *,
        deadline_delay: float | None,
    ) -> StorageGaveUpError:
        """The error that says why retrying stopped: the deadline or the attempts ran out.

        `deadline_delay` is the backoff that would have ended past the deadline (None when
        the attempts ran out). Carries the last failure's service fields and Retry-After.
        """
        elapsed = max(0.0, self.clock() - began)
        operation = getattr(last, "operation", None) or self.operation
        if deadline_delay is not None:
            stopped_by = "deadline"
            why = (
                f"the {self.deadline:g} s deadline would pass before another attempt "
                f"({elapsed:.3f} s spent, next backoff {deadline_delay:.3f} s)"
            )
        else:
            stopped_by = "attempts"
            limit = f", deadline {self.deadline:g} s" if self.deadline is not None else ""
            why = f"every attempt failed ({elapsed:.3f} s spent{limit})"
        cause = last.reason if isinstance(last, StorageError) else str(last)
        message = (
            f"gave up after {attempts} of {self.max_attempts} attempts: {why}; the last "
            f"attempt failed with {type(last).__name__}: {cause}"
        )
        return StorageGaveUpError(
            message,
            last_error=last,
            attempts=attempts,
            max_attempts=self.max_attempts,
            stopped_by=stopped_by,
            deadline=self.deadline,
            elapsed=elapsed,
            backend=getattr(last, "backend", None),
            operation=operation,
            blob_name=getattr(last, "blob_name", None),
            status=getattr(last, "status", None),
            error_code=getattr(last, "error_code", None),
            request_id=getattr(last, "request_id", None),
            hint=getattr(last, "hint", None)
            or "the service kept failing; check its health and try again later",
        )

    # -- tenacity hooks -----------------------------------------------------------------

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        return self.delay_for(state.attempt_number, exc)

    def _wait_rest(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        return self.delay_for(state.attempt_number + 1, exc)

    async def _async_sleep(self, seconds: float) -> None:
        if self._sleep is None:
            await asyncio.sleep(seconds)
            return
        outcome = self._sleep(seconds)
        if inspect.isawaitable(outcome):
            await outcome

    def _log_retry(self, state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        self._log(state.attempt_number, exc, state.upcoming_sleep, state.fn)

    def _log_retry_rest(self, state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        self._log(state.attempt_number + 1, exc, state.upcoming_sleep, state.fn)

    def _log_deadline_state(self, state: tenacity.RetryCallState, offset: int) -> float:
        """Log the deadline's stop; return the backoff that would have passed it."""
        exc = state.outcome.exception() if state.outcome is not None else None
        self._log_deadline(state.attempt_number + offset, exc, state.upcoming_sleep, state.fn)
        return float(state.upcoming_sleep or 0.0)

    def _log_context(
        self, exc: BaseException | None, fn: Callable[..., Any] | None
    ) -> tuple[dict[str, object], str]:
        """The failed attempt's log fields and the operation's name, for both log lines."""
        fields: dict[str, object] = (
            exc.log_fields()
            if isinstance(exc, StorageError)
            else {"error_type": type(exc).__name__}
        )
        return fields, str(self.operation or fields.get("operation") or _fn_name(fn))

    def _log_deadline(
        self,
        attempt: int,
        exc: BaseException | None,
        delay: float,
        fn: Callable[..., Any] | None,
    ) -> None:
        fields, operation = self._log_context(exc, fn)
        logger.warning(
            "giving up on %s after attempt %d/%d (%s): a retry after %.3f s of backoff would "
            "pass the %.3f s deadline [correlation_id=%s]",
            operation,
            attempt,
            self.max_attempts,
            fields.get("error_type"),
            delay,
            self.deadline,
            get_correlation_id(),
            extra={"operation": operation, "attempt": attempt, "deadline_s": self.deadline},
        )

    def _log(
        self,
        attempt: int,
        exc: BaseException | None,
        delay: float,
        fn: Callable[..., Any] | None,
    ) -> None:
        fields, operation = self._log_context(exc, fn)
        cid = get_correlation_id()
        logger.warning(
            "retrying %s after attempt %d/%d failed with %s (status=%s, code=%s, "
            "request_id=%s); sleeping %.3f s [correlation_id=%s]",
            operation,
            attempt,
            self.max_attempts,
            fields.get("error_type"),
            fields.get("status"),
            fields.get("error_code"),
            fields.get("service_request_id"),
            delay,
            cid,
            extra={
                **{k: v for k, v in fields.items() if k != "operation"},
                "operation": operation,
                "correlation_id": cid,
                "attempt": attempt,
                "max_attempts": self.max_attempts,
                "delay_s": delay,
            },
        )


class _DeadlineStop:
    """Set by the deadline's stop strategy of one call: the backoff that would pass it."""

    __slots__ = ("delay",)

    def __init__(self) -> None:
        self.delay: float | None = None

    def note(self, delay: float) -> None:
        self.delay = delay


def _fn_name(fn: Callable[..., Any] | None) -> str:
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    return str(name) if name else "call"


def retry_with_exponential_backoff(
    max_retries: int = 3,
    base_delay: float = 1.0,
    max_delay: float = 30.0,
    jitter: Jitter = "equal",
    *,
    sleep: Callable[[float], Any] | None = None,
    rng: RandomSource | None = None,
    retry_on: Callable[[BaseException], bool] = is_retryable,
    deadline: float | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> RetryPolicy:
    """The original backend's decorator:
    ``@retry_with_exponential_backoff(max_retries=3, base_delay=1.0)``.

    Works on sync and async functions. `sleep` (sync or async callable) and `rng`
    (anything with ``.random()``) are injectable, so tests run instantly and exactly;
    `deadline` (seconds, on `clock`) bounds one call's attempts and backoff together.
    The returned `RetryPolicy` can also be used directly: ``policy.call(fn, *args)``.
    """
    return RetryPolicy(
        max_retries=max_retries,
        base_delay=base_delay,
        max_delay=max_delay,
        jitter=jitter,
        sleep=sleep,
        rng=rng,
        retry_on=retry_on,
        deadline=deadline,
        clock=clock,
    )
