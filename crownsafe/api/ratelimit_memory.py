"""limits' storage contract in one process's memory, on an injected clock.

Used by the rate limiter as its fallback while Redis fails (each process then counts on its
own), by RATE_LIMIT_STORAGE=memory (tests), and by unit tests that move windows without
waiting. limits' own `MemoryStorage` reads `time.time()` and runs an expiry task on the
event loop, so neither a test clock nor a plain constructor outside a loop would work.
Fixed windows: `incr` / `get` / `get_expiry`. Sliding window counter: the two methods
limits' `SlidingWindowCounterRateLimiter` needs, with the same meaning as in its Redis
storage (the current count lives two windows from its window's start; the previous one
weighs by the share of a window it has left).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from limits.aio.storage import Storage

__all__ = ["ClockedMemoryStorage"]


class ClockedMemoryStorage(Storage):
    """Counters in a dict, expiring on `clock` (seconds since the epoch)."""

    STORAGE_SCHEME = None

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        super().__init__(uri=None)
        self._clock = clock
        self._counts: dict[str, int] = {}
        self._expiries: dict[str, float] = {}

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return ValueError

    def _expire(self, key: str) -> None:
        if self._expiries.get(key, math.inf) <= self._clock():
            self._counts.pop(key, None)
            self._expiries.pop(key, None)

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        self._expire(key)
        if key not in self._counts:
            self._expiries[key] = self._clock() + expiry
        self._counts[key] = self._counts.get(key, 0) + amount
        return self._counts[key]

    async def get(self, key: str) -> int:
        self._expire(key)
        return self._counts.get(key, 0)

    async def get_expiry(self, key: str) -> float:
        self._expire(key)
        return self._expiries.get(key, self._clock())

    async def check(self) -> bool:
        return True

    async def reset(self) -> int | None:
        count = len(self._counts)
        self._counts.clear()
        self._expiries.clear()
        return count

    async def clear(self, key: str) -> None:
        self._counts.pop(key, None)
        self._expiries.pop(key, None)

    def _window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        now = self._clock()
        number = math.floor(now / expiry)
        previous = self._counts.get(f"{key}/{number - 1}", 0)
        current = self._counts.get(f"{key}/{number}", 0)
        left = (number + 1) * expiry - now  # of the current window
        return previous, (left if previous else 0.0), current, left + expiry

    async def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        """(previous count, its weight's seconds left, current count, its key's TTL)."""
        for stale in [k for k in self._counts if k.startswith(f"{key}/")]:
            self._expire(stale)
        return self._window(key, expiry)

    async def acquire_sliding_window_entry(
        self, key: str, limit: int, expiry: int, amount: int = 1
    ) -> bool:
        """Charge `amount` when the weighted count leaves room for it; else charge nothing."""
        if amount > limit:
            return False
        previous, previous_ttl, current, _ = await self.get_sliding_window(key, expiry)
        if math.floor(previous * previous_ttl / expiry + current) + amount > limit:
            return False
        number = math.floor(self._clock() / expiry)
        await self.incr(f"{key}/{number}", 2 * expiry, amount)
        return True
