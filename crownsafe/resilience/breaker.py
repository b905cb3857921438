"""A circuit breaker: stop calling a failing service, try again after a pause.

States (as in Resilience4j and Polly):

- CLOSED: calls pass. The breaker opens after `failure_threshold` consecutive counted
  failures or, when a failure-rate window is configured, when at least `minimum_calls` of
  the last `window_size` calls were recorded and the share of failures reaches
  `failure_rate_threshold`.
- OPEN: every call fails at once with `CircuitOpenError`, without calling the function
  (no I/O). After `recovery_timeout` seconds (on the injected clock) the breaker moves to
  HALF_OPEN at the next call or state read.
- HALF_OPEN: at most `half_open_max_calls` trial calls are admitted; the other callers fail
  fast. A failed trial reopens the breaker and restarts the timer; when all permitted
  trials succeeded the breaker closes.

Whose fault is it? Only the service's own failures count (`counted_exceptions`, by
default `SERVICE_FAILURES`: throttling, 5xx, 408, timeouts, connection errors). Everything
else passes through uncounted: the caller's mistakes (not found, conflict, auth, invalid
name, metadata or SAS request, a declared length the stream did not keep), an operation
the service does not implement (501), bytes the service stored wrongly, and whatever a
caller's own data source raised mid-upload (an upload refused as too large, a client that
hung up mid-body): one client's fault must never cost every other user their uploads.
`ignored_exceptions` are never counted even when they are also service failures. A
`NonRetryableUploadError` counts as what caused it. An uncounted exception in HALF_OPEN
frees its trial slot.

A call's outcome is recorded only if the breaker is still in the state generation the call
was admitted in, so a slow call that started before a transition cannot flip the new state.
The lock is held only for bookkeeping (never around the call), which makes the breaker
safe under threads and in asyncio code (`call_async`). The sync `call` of a CLOSED breaker
with no failure since its last success takes no lock at all (admission reads the
generation, then the state; the success is one atomic `deque.append`): that is every call
of a healthy service, and the resilient client's per-call cost (issue 19). Listeners run
after the lock is released; a listener that raises is logged and ignored.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple, ParamSpec, TypeVar

from crownsafe.errors import (
    BlobConflictError,
    BlobNotFoundError,
    InvalidBlobNameError,
    InvalidMetadataError,
    InvalidSasRequestError,
    NonRetryableUploadError,
    StorageAuthError,
    StorageError,
    StorageIntegrityError,
    StorageNotSupportedError,
    StorageThrottledError,
    StorageUnavailableError,
    UploadLengthMismatchError,
)
from crownsafe.resilience.decorating import CallDecorator

__all__ = [
    "DEFAULT_IGNORED_EXCEPTIONS",
    "SERVICE_FAILURES",
    "BreakerStats",
    "CircuitBreaker",
    "CircuitOpenError",
    "CircuitState",
    "StateListener",
]

logger = logging.getLogger("crownsafe.resilience.breaker")

P = ParamSpec("P")
R = TypeVar("R")

DEFAULT_IGNORED_EXCEPTIONS: tuple[type[BaseException], ...] = (
    BlobNotFoundError,
    BlobConflictError,
    StorageAuthError,
    InvalidBlobNameError,
    InvalidMetadataError,
    InvalidSasRequestError,
    UploadLengthMismatchError,
    StorageNotSupportedError,
    StorageIntegrityError,
)

SERVICE_FAILURES: tuple[type[BaseException], ...] = (
    StorageThrottledError,
    StorageUnavailableError,
    ConnectionError,
    TimeoutError,
)
"""What a breaker counts by default: failures of the service itself."""


class CircuitState(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitOpenError(StorageError):
    """The circuit breaker refused the call without touching the network.

    `operation`, `blob_name` and `backend` name the refused call when the caller knows
    them (`ResilientStorageClient` does: `for_call`), so its log line says what was not done.
    """

    def __init__(
        self,
        breaker: str,
        state: CircuitState,
        retry_in: float,
        *,
        operation: str | None = None,
        blob_name: str | None = None,
        backend: str | None = None,
    ) -> None:
        self.breaker = breaker
        self.state = state
        self.retry_in = retry_in
        if state is CircuitState.OPEN:
            reason = (
                f"not sent: circuit breaker {breaker!r} is open after repeated service "
                f"failures; next trial in {retry_in:.3f} s"
            )
        else:
            reason = (
                f"not sent: circuit breaker {breaker!r} is half-open and its trial calls are taken"
            )
        super().__init__(
            reason,
            backend=backend,
            operation=operation or "circuit_breaker",
            blob_name=blob_name,
            hint="the service failed repeatedly: check its health, or wait for the trial call",
        )

    def for_call(
        self, operation: str, blob_name: str | None, backend: str | None
    ) -> CircuitOpenError:
        """The same refusal, naming the call that was refused."""
        return CircuitOpenError(
            self.breaker,
            self.state,
            self.retry_in,
            operation=operation,
            blob_name=blob_name,
            backend=backend,
        )


StateListener = Callable[["CircuitBreaker", CircuitState, CircuitState], None]


@dataclass(frozen=True)
class BreakerStats:
    """A snapshot of the breaker's counters."""

    state: CircuitState
    consecutive_failures: int
    window_calls: int
    window_failures: int
    opened_count: int
    rejected_count: int


class _Permit(NamedTuple):
    """What a call was admitted with (a tuple: the breaker's hot path builds one per call)."""

    generation: int
    trial: bool


class CircuitBreaker(CallDecorator):
    """A thread- and asyncio-safe circuit breaker with an injectable clock."""

    def __init__(
        self,
        name: str = "storage",
        *,
        failure_threshold: int = 5,
        recovery_timeout: float = 60.0,
        half_open_max_calls: int = 1,
        failure_rate_threshold: float | None = None,
        window_size: int = 20,
        minimum_calls: int = 10,
        ignored_exceptions: Iterable[type[BaseException]] = DEFAULT_IGNORED_EXCEPTIONS,
        counted_exceptions: Iterable[type[BaseException]] = SERVICE_FAILURES,
        clock: Callable[[], float] = time.monotonic,
        listeners: Iterable[StateListener] = (),
    ) -> None:
        if failure_threshold < 1 or half_open_max_calls < 1 or window_size < 1:
            raise ValueError("failure_threshold, half_open_max_calls and window_size must be >= 1")
        if failure_rate_threshold is not None and not 0 < failure_rate_threshold <= 1:
            raise ValueError("failure_rate_threshold must be in (0, 1]")
        if recovery_timeout < 0:
            raise ValueError("recovery_timeout must be >= 0")
        self.name = name
        self.failure_threshold = failure_threshold
        self.recovery_timeout = recovery_timeout
        self.half_open_max_calls = half_open_max_calls
        self.failure_rate_threshold = failure_rate_threshold
        self.minimum_calls = min(minimum_calls, window_size)
        self.ignored_exceptions = tuple(ignored_exceptions)
        self.counted_exceptions = tuple(counted_exceptions)
        self._clock = clock
        self._listeners: list[StateListener] = list(listeners)
        self._lock = threading.Lock()
        self._state = CircuitState.CLOSED
        self._generation = 0
        self._consecutive_failures = 0
        self._window: deque[bool] = deque(maxlen=window_size)
        self._opened_at = 0.0
        self._trials_admitted = 0
        self._trial_successes = 0
        self._opened_count = 0
        self._rejected_count = 0

    # -- public state -------------------------------------------------------------------

    @property
    def state(self) -> CircuitState:
        """The current state (an expired OPEN becomes HALF_OPEN when read)."""
        with self._lock:
            changes = self._maybe_half_open()
            state = self._state
        self._notify(changes)
        return state

    def stats(self) -> BreakerStats:
        with self._lock:
            return BreakerStats(
                state=self._state,
                consecutive_failures=self._consecutive_failures,
                window_calls=len(self._window),
                window_failures=sum(1 for ok in self._window if not ok),
                opened_count=self._opened_count,
                rejected_count=self._rejected_count,
            )

    def add_listener(self, listener: StateListener) -> None:
        """Call `listener(breaker, old_state, new_state)` on every state change."""
        with self._lock:
            self._listeners.append(listener)

    def reset(self) -> None:
        """Close the breaker and forget all counts."""
        with self._lock:
            changes = self._transition(CircuitState.CLOSED)
            self._rejected_count = 0
            self._opened_count = 0
        self._notify(changes)

    def force_open(self) -> None:
        """Open the breaker now (e.g. a health check knows the service is down)."""
        with self._lock:
            changes = self._transition(CircuitState.OPEN)
        self._notify(changes)

    # -- calling ------------------------------------------------------------------------

    def call(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Run `fn(*args, **kwargs)` under the breaker.

        Hot path: a CLOSED breaker with no failure since the last success admits and
        records without its lock (see `_closed_generation` and `_record_success`).
        """
        generation = self._closed_generation()
        if generation is not None:
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:
                self._record_exception(_Permit(generation, trial=False), exc)
                raise
            self._record_success(generation)
            return result
        permit = self._acquire()
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            self._record_exception(permit, exc)
            raise
        self._record(permit, success=True)
        return result

    async def call_async(
        self, fn: Callable[P, Awaitable[R]], /, *args: P.args, **kwargs: P.kwargs
    ) -> R:
        """Await `fn(*args, **kwargs)` under the breaker."""
        permit = self._acquire()
        try:
            result = await fn(*args, **kwargs)
        except BaseException as exc:
            self._record_exception(permit, exc)
            raise
        self._record(permit, success=True)
        return result

    # -- the lock-free hot path ---------------------------------------------------------

    def _closed_generation(self) -> int | None:
        """The generation a call is admitted in when the breaker is CLOSED, else None
        (the caller takes the locked `_acquire`).

        Read without the lock: the generation first, then the state. `_transition` writes
        the state before it bumps the generation, so a CLOSED read here either belongs to
        that generation or the generation is already stale, and a stale permit's outcome
        is ignored, exactly like a slow call admitted just before a transition.
        """
        generation = self._generation
        if self._state is CircuitState.CLOSED:
            return generation
        return None

    def _record_success(self, generation: int) -> None:
        """A success of a call admitted CLOSED in `generation`.

        Without the lock when nothing but the window changes (no failure since the last
        success, same generation): `deque.append` is atomic, and a success racing a
        concurrent failure's record is then counted as if it had come just before it (the
        locked path would order the two the other way; either order is a valid history).
        """
        if self._consecutive_failures or generation != self._generation:
            self._record(_Permit(generation, trial=False), success=True)
        else:
            self._window.append(True)

    # -- bookkeeping (all under the lock) -----------------------------------------------

    def _acquire(self) -> _Permit:
        with self._lock:
            changes = self._maybe_half_open()
            state = self._state
            if state is CircuitState.CLOSED:
                permit: _Permit | None = _Permit(self._generation, trial=False)
            elif state is CircuitState.HALF_OPEN and (
                self._trials_admitted < self.half_open_max_calls
            ):
                self._trials_admitted += 1
                permit = _Permit(self._generation, trial=True)
            else:
                permit = None
                self._rejected_count += 1
                retry_in = max(0.0, self._opened_at + self.recovery_timeout - self._clock())
        self._notify(changes)
        if permit is None:
            raise CircuitOpenError(self.name, state, retry_in)
        return permit

    def counts(self, exc: BaseException) -> bool:
        """Whether `exc` counts against the service (see "Whose fault is it?" above)."""
        if isinstance(exc, self.ignored_exceptions):
            return False
        if isinstance(exc, NonRetryableUploadError) and exc.__cause__ is not None:
            return self.counts(exc.__cause__)
        return isinstance(exc, self.counted_exceptions)

    @property
    def is_open(self) -> bool:
        """True while calls are refused (OPEN, recovery time not yet over)."""
        return self.state is CircuitState.OPEN

    def _record_exception(self, permit: _Permit, exc: BaseException) -> None:
        if not self.counts(exc):
            with self._lock:
                if permit.trial and permit.generation == self._generation:
                    self._trials_admitted -= 1
            return
        self._record(permit, success=False)

    def _record(self, permit: _Permit, *, success: bool) -> None:
        with self._lock:
            if permit.generation != self._generation:
                return
            changes: list[tuple[CircuitState, CircuitState]] = []
            if self._state is CircuitState.HALF_OPEN:
                if not success:
                    changes = self._transition(CircuitState.OPEN)
                else:
                    self._trial_successes += 1
                    if self._trial_successes >= self.half_open_max_calls:
                        changes = self._transition(CircuitState.CLOSED)
            elif self._state is CircuitState.CLOSED:
                self._window.append(success)
                self._consecutive_failures = 0 if success else self._consecutive_failures + 1
                if not success and self._should_open():
                    changes = self._transition(CircuitState.OPEN)
        self._notify(changes)

    def _should_open(self) -> bool:
        if self._consecutive_failures >= self.failure_threshold:
            return True
        if self.failure_rate_threshold is None or len(self._window) < self.minimum_calls:
            return False
        failures = sum(1 for ok in self._window if not ok)
        return failures / len(self._window) >= self.failure_rate_threshold

    def _maybe_half_open(self) -> list[tuple[CircuitState, CircuitState]]:
        if (
            self._state is CircuitState.OPEN
            and self._clock() - self._opened_at >= self.recovery_timeout
        ):
            return self._transition(CircuitState.HALF_OPEN)
        return []

    def _transition(self, new: CircuitState) -> list[tuple[CircuitState, CircuitState]]:
        old = self._state
        self._state = new
        self._generation += 1
        self._trials_admitted = 0
        self._trial_successes = 0
        if new is CircuitState.OPEN:
            self._opened_at = self._clock()
            self._opened_count += 1
        if new is CircuitState.CLOSED:
            self._consecutive_failures = 0
            self._window.clear()
        return [] if old is new else [(old, new)]

    def _notify(self, changes: list[tuple[CircuitState, CircuitState]]) -> None:
        if not changes:
            return
        with self._lock:
            listeners = list(self._listeners)
        for old, new in changes:
            log = logger.error if new is CircuitState.OPEN else logger.info
            log(
                "circuit breaker %r: %s -> %s",
                self.name,
                old.value,
                new.value,
                extra={"breaker": self.name, "breaker_state": new.value},
            )
            for listener in listeners:
                try:
                    listener(self, old, new)
                except Exception:
                    logger.exception("circuit breaker %r: state listener failed", self.name)

    def __repr__(self) -> str:
        return f"CircuitBreaker({self.name!r}, state={self._state.value})"
