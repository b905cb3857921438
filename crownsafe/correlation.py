"""The correlation id of the current operation, kept in a context variable.

Storage clients send it with every request (Azure `x-ms-client-request-id`, S3
`x-crownsafe-correlation-id`) and every log line of the operation carries it.
`crownsafe.resilience.with_correlation_id` sets it around a function.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = [
    "CORRELATION_HEADER_AZURE",
    "CORRELATION_HEADER_S3",
    "correlation_scope",
    "get_correlation_id",
    "new_correlation_id",
]

CORRELATION_HEADER_AZURE = "x-ms-client-request-id"
CORRELATION_HEADER_S3 = "x-crownsafe-correlation-id"

_correlation_id: ContextVar[str | None] = ContextVar("crownsafe_correlation_id", default=None)


def new_correlation_id() -> str:
    return str(uuid.uuid4())


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
