"""The correlation id of the current operation, kept in a context variable.

Storage clients send it with every request (Azure `x-ms-client-request-id`, S3
`x-crownsafe-correlation-id`) and every log line of the operation carries it.
`crownsafe.resilience.with_correlation_id` sets it around a function.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

__all__ = [
    "CORRELATION_HEADER_AZURE",
    "CORRELATION_HEADER_S3",
    "correlation_scope",
    "enter_correlation",
    "exit_correlation",
    "get_correlation_id",
    "new_correlation_id",
]

CORRELATION_HEADER_AZURE = "x-ms-client-request-id"
CORRELATION_HEADER_S3 = "x-crownsafe-correlation-id"

_correlation_id: ContextVar[str | None] = ContextVar("crownsafe_correlation_id", default=None)
CorrelationToken = Token[str | None]


def _fresh_prefix() -> str:
    hex_digits = uuid.uuid4().hex
    return f"{hex_digits[:8]}-{hex_digits[8:12]}-{hex_digits[12:16]}-{hex_digits[16:20]}-"


_prefix = _fresh_prefix()
_serial = itertools.count(1)


def _reseed_after_fork() -> None:
    """A forked child (a Celery or uvicorn worker) must not repeat its parent's ids."""
    global _prefix, _serial
    _prefix, _serial = _fresh_prefix(), itertools.count(1)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reseed_after_fork)


def new_correlation_id() -> str:
    """A new id in the shape of a UUID (36 characters, lower-case hex and dashes): 80
    random bits drawn once per process, then a 48-bit counter.

    Unique within the process and, with the random part, across processes; about 20x
    cheaper than `uuid4()` (one string join instead of a system call and a UUID object),
    which matters because every storage call through the resilience layer makes one.
    """
    return f"{_prefix}{next(_serial):012x}"


def enter_correlation(correlation_id: str | None = None) -> CorrelationToken:
    """Set the correlation id (the given one, the current one, or a new one) and return
    the token for `exit_correlation`: the hot path's cheaper `correlation_scope`."""
    return _correlation_id.set(correlation_id or _correlation_id.get() or new_correlation_id())


def exit_correlation(token: CorrelationToken) -> None:
    """Restore the correlation id that was current before `enter_correlation`."""
    _correlation_id.reset(token)


def get_correlation_id() -> str | None:
    """The id of the operation in progress, or None outside any scope."""
    return _correlation_id.get()


@contextmanager
def correlation_scope(correlation_id: str | None = None) -> Iterator[str]:
    """Run a block under `correlation_id` (the current one, or a new one, if not given)."""
    cid = correlation_id or _correlation_id.get() or new_correlation_id()
    token = _correlation_id.set(cid)
    try:
        yield cid
    finally:
        _correlation_id.reset(token)
