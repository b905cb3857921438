"""`HealthCache`: /health's dependency checks, reused for a short time, one at a time."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import anyio

__all__ = ["HEALTH_TTL_S", "HealthCache"]

HEALTH_TTL_S = 1.0
"""How old a /health answer may be: a dependency's state change shows within this time."""


class HealthCache:
    """The last checks' results, reused for `ttl` seconds; one check at a time."""

    def __init__(self, ttl: float = HEALTH_TTL_S, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self._clock = clock
        self._checked_at: float | None = None
        self._checks: dict[str, str] = {}
        self._lock: anyio.Lock | None = None

    def _fresh(self) -> bool:
        return self._checked_at is not None and self._clock() - self._checked_at < self.ttl

    async def get(self, check: Callable[[], Awaitable[dict[str, str]]]) -> dict[str, str]:
        if self._fresh():
            return self._checks
        if self._lock is None:
            self._lock = anyio.Lock()
        async with self._lock:
            if not self._fresh():  # another request may have checked while we waited
                self._checks = await check()
                self._checked_at = self._clock()
        return self._checks
