"""Rate limits on uploads and share creation, per user and, without a valid token, per IP.

Why: any valid token could upload without limit, and a client could try tokens without
limit. Each request to a limited route is counted (fixed windows of the `limits`
library): with a valid token against its user (the JWT subject), without one against its
client IP (the connection's peer, or the client a TRUSTED_PROXIES proxy names in
`X-Forwarded-For`) before its 401. Counters
live in Redis (`REDIS_URL`, limits' asyncio storage), so every uvicorn worker and every
API process shares one budget; `RATE_LIMIT_STORAGE=memory` keeps them in the process, for
tests only. Keys carry the container, so deployments sharing one Redis keep their own
budgets.

A refused request is answered 429 with `Retry-After` from a dependency that runs before
the route, so it never reaches storage and never counts against the circuit breaker.
When the counter storage fails (Redis down), the request goes on (fail open: the limits
are a guard against abuse, not a quota that must hold during a Redis outage); the first
failure of an outage is logged at WARNING, the rest of it at DEBUG.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials
from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter

from crownsafe.api.auth import _bearer, current_user
from crownsafe.api.errors import ApiError
from crownsafe.config import Settings

__all__ = [
    "RULES",
    "ClockedMemoryStorage",
    "Decision",
    "RateLimiter",
    "build_rate_limiter",
    "limited_user",
    "parse_rule",
]

log = logging.getLogger("crownsafe.api.ratelimit")

RULES = ("uploads", "shares", "unauthenticated")
"""The limited actions: uploads and share creation per user; requests to either without
a valid token per client IP."""


def parse_rule(value: str, variable: str) -> RateLimitItem | None:
    """`value` in limits' notation ("120/minute", "10 per second"); empty or "off": none.

    Raises ValueError naming `variable` and the form it wants."""
    text = value.strip()
    if not text or text.lower() == "off":
        return None
    try:
        item = parse(text)
    except ValueError:
        raise ValueError(
            f"{variable}={value!r} is not a rate limit: write COUNT/PERIOD, e.g. 120/minute "
            "(PERIOD: second, minute, hour or day), or off"
        ) from None
    if item.amount < 1:
        raise ValueError(f"{variable}={value!r} allows nothing: the count must be 1 or more")
    return item


@dataclass(frozen=True)
class Decision:
    """One counted request: allowed or not, the budget and when the window resets."""

    allowed: bool
    limit: int
    remaining: int
    retry_after: int
    """Whole seconds until the window resets (at least 1 when refused, 0 when allowed)."""


class RateLimiter:
    """Counts requests per (rule, subject) in fixed windows and decides.

    `clock` (seconds since the epoch) is what Retry-After is measured from; give the same
    clock to a `ClockedMemoryStorage` to test windows without waiting."""

    def __init__(
        self,
        storage: Storage,
        rules: Mapping[str, RateLimitItem | None],
        *,
        namespace: str = "crownsafe",
        clock: Callable[[], float] = time.time,
    ) -> None:
        unknown = set(rules) - set(RULES)
        if unknown:
            raise ValueError(f"unknown rate limit rules {sorted(unknown)}; known: {RULES}")
        self._storage = storage
        self._rules = dict(rules)
        self._strategy = FixedWindowRateLimiter(storage)
        self._namespace = namespace
        self._clock = clock
        self._failing = False

    def rule(self, name: str) -> RateLimitItem | None:
        return self._rules.get(name)

    async def hit(self, rule: str, subject: str) -> Decision:
        """Count one request of `subject` (e.g. "user:12", "ip:10.0.0.1") against `rule`."""
        item = self._rules.get(rule)
        if item is None:
            return Decision(True, 0, 0, 0)
        try:
            allowed = await self._strategy.hit(item, self._namespace, rule, subject)
            stats = await self._strategy.get_window_stats(item, self._namespace, rule, subject)
        except Exception as exc:
            self._outage(exc)
            return Decision(True, item.amount, item.amount, 0)
        if self._failing:
            self._failing = False
            log.warning("rate limit storage answers again; limits apply")
        retry_after = 0 if allowed else max(1, math.ceil(stats.reset_time - self._clock()))
        return Decision(allowed, item.amount, stats.remaining, retry_after)

    def _outage(self, exc: Exception) -> None:
        level = logging.DEBUG if self._failing else logging.WARNING
        log.log(
            level,
            "rate limit storage failed (%s); requests go on unlimited until it answers",
            type(exc).__name__,
        )
        self._failing = True


class ClockedMemoryStorage(Storage):
    """limits' storage contract in a dict, on an injected clock: for tests only (one
    process's counters; `time.time` by default). The app uses it when
    RATE_LIMIT_STORAGE=memory."""

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


def _redis_storage(redis_url: str) -> Storage:
    if not redis_url:
        raise ValueError(
            "RATE_LIMIT_STORAGE=redis needs REDIS_URL: set REDIS_URL (the one Redis of the "
            "app and Celery), or RATE_LIMIT_STORAGE=memory in tests"
        )
    return RedisStorage(
        f"async+{redis_url}", implementation="redispy", socket_timeout=2, socket_connect_timeout=2
    )


def build_rate_limiter(settings: Settings) -> RateLimiter:
    """The app's limiter from RATE_LIMIT_* (checked by `load_settings`)."""
    rules = {
        "uploads": parse_rule(settings.rate_limit_uploads, "RATE_LIMIT_UPLOADS"),
        "shares": parse_rule(settings.rate_limit_shares, "RATE_LIMIT_SHARES"),
        "unauthenticated": parse_rule(
            settings.rate_limit_unauthenticated, "RATE_LIMIT_UNAUTHENTICATED"
        ),
    }
    storage: Storage = (
        ClockedMemoryStorage()
        if settings.rate_limit_storage == "memory"
        else _redis_storage(settings.redis_url)
    )
    return RateLimiter(storage, rules, namespace=f"crownsafe:{settings.container}")


def _refuse(decision: Decision, what: str) -> ApiError:
    return ApiError(
        429,
        f"too many {what}: at most {decision.limit} per window; try again in "
        f"{decision.retry_after} s",
        headers={"Retry-After": str(decision.retry_after)},
    )


def limited_user(rule: str) -> Callable[..., object]:
    """A dependency for a limited route: the authenticated user id, counted against `rule`;
    429 with Retry-After when over. Without a valid token the request is counted against
    the client IP first (429 when over, else the 401)."""
    if rule not in RULES:
        raise ValueError(f"unknown rate limit rule {rule!r}")

    async def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> int:
        limiter: RateLimiter | None = getattr(request.app.state.api, "rate_limiter", None)
        try:
            user = current_user(request, credentials)
        except ApiError:
            if limiter is not None:
                peer = request.client.host if request.client else "unknown"
                decision = await limiter.hit("unauthenticated", f"ip:{peer}")
                if not decision.allowed:
                    raise _refuse(decision, "requests without a valid token") from None
            raise
        if limiter is not None:
            decision = await limiter.hit(rule, f"user:{user}")
            if not decision.allowed:
                raise _refuse(decision, rule)
        return user

    return dependency
