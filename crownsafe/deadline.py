"""The deadline of the current logical storage call, as a context variable.

`crownsafe.resilience.RetryPolicy` opens a `deadline_scope` around each logical call
(STORAGE_DEADLINE_SECONDS from its first attempt); an adapter whose SDK takes per-call
timeouts (Azure's transport does, the AWS SDK does not) reads `time_left()` and caps each
request's timeout by it, so the last attempt ends at the deadline instead of a full
timeout later. Like `crownsafe.correlation`, this module imports nothing from crownsafe,
so the resilience layer and the adapters can share it without depending on each other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

__all__ = ["deadline_scope", "enter_deadline", "exit_deadline", "time_left"]

Clock = Callable[[], float]

_current: ContextVar[tuple[float, Clock] | None] = ContextVar("crownsafe_deadline", default=None)


DeadlineToken = Token[tuple[float, Clock] | None]


def enter_deadline(at: float, clock: Clock) -> DeadlineToken:
    """Set the deadline to `at` seconds on `clock`; pass the token to `exit_deadline`.

    (The retry policy's hot path uses this pair: it is cheaper than a context manager.)
    """
    return _current.set((at, clock))


def exit_deadline(token: DeadlineToken) -> None:
    """Restore the deadline that was current before `enter_deadline`."""
    _current.reset(token)


@contextmanager
def deadline_scope(at: float, clock: Clock) -> Iterator[None]:
    """Run the block with a deadline at `at` seconds on `clock` (a monotonic clock)."""
    token = enter_deadline(at, clock)
    try:
        yield
    finally:
        exit_deadline(token)


def time_left() -> float | None:
    """Seconds left before the current call's deadline (0 when past it); None without one."""
    current = _current.get()
    if current is None:
        return None
    at, clock = current
    return max(0.0, at - clock())
