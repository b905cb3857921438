"""How long a service asked us to wait: `Retry-After` and its millisecond variants.

Both backends read the same headers: Azure sends `x-ms-retry-after-ms` / `retry-after-ms`
beside `Retry-After`; S3 (and S3-compatible services) send `Retry-After`, as delta seconds
or an HTTP date. The resilience layer waits at least this long before retrying.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = ["parse_retry_after"]

_MILLISECOND_HEADERS = ("x-ms-retry-after-ms", "retry-after-ms")


def _seconds(raw: str, scale: float, now: Callable[[], datetime]) -> float | None:
    text = raw.strip()
    try:
        seconds = float(text) * scale
    except ValueError:
        if scale != 1.0:
            return None
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - now()).total_seconds()
    return max(0.0, seconds) if math.isfinite(seconds) else None


def parse_retry_after(
    headers: Mapping[str, str], *, now: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> float | None:
    """Seconds to wait from the response headers, or None when they ask for nothing valid."""
    lowered = {key.lower(): value for key, value in headers.items()}
    for name in _MILLISECOND_HEADERS:
        raw = lowered.get(name)
        if raw is not None and (seconds := _seconds(raw, 0.001, now)) is not None:
            return seconds
    raw = lowered.get("retry-after")
    return _seconds(raw, 1.0, now) if raw else None
