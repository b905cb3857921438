"""Rate limits per user and per client IP, counted in Redis so every API process shares them.

The policies (each named as the IETF RateLimit header fields name it):

| policy | setting | counted per | window | counter |
|---|---|---|---|---|
| `requests` | API_REQUESTS_PER_MINUTE (1000) | user | minute | fixed |
| `uploads` | RATE_LIMIT_UPLOADS (120/minute) | user | its own | fixed |
| `shares` | RATE_LIMIT_SHARES (60/minute) | user | its own | fixed |
| `failed-auth` | RATE_LIMIT_UNAUTHENTICATED (120/minute) | client IP | its own | fixed |
| `upload-bytes` | UPLOAD_BYTES_PER_HOUR (100 MB) | user | hour | sliding |

Request counts use fixed windows aligned to the clock (one Redis INCR per policy and
request, and the window's reset is known without asking Redis). The byte quota is charged
as an upload's body streams in, with costs in bytes: a fixed window would let a user send
twice the quota across a window boundary, and limits' moving window keeps one entry per
unit of cost (a hundred million per hour here), so it uses limits' *sliding window
counter* (two counters, a weighted sum; refused charges are not counted, and the check and
the charge are one atomic Lua call in Redis).

When the counter storage fails (Redis down or unreachable), each process decides with its
own counters (`ClockedMemoryStorage`) until Redis answers again: the limits still hold per
process (with N processes a user may get up to N budgets during the outage), nothing is
refused for lack of Redis. The outage is logged once at WARNING when it starts and once
when it ends, counted (`crownsafe_rate_limit_storage_outages_total`, and every decision
taken by the fallback in `crownsafe_rate_limit_fallback_decisions_total`) and shown
(`crownsafe_rate_limit_storage_up`). During an outage Redis is tried again every
`retry_seconds` (not on every request: an unreachable host would cost each request a
connect timeout).
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from limits import RateLimitItem
from limits.aio.storage import RedisStorage, Storage

from crownsafe.api.ratelimit_memory import ClockedMemoryStorage
from crownsafe.config import Settings
from crownsafe.rate_limits import parse_count, parse_rule, rules_of

__all__ = [
    "RULES",
    "ClockedMemoryStorage",
    "Decision",
    "LimiterEvents",
    "Policy",
    "RateLimiter",
    "build_rate_limiter",
    "parse_count",
    "parse_rule",
    "rules_of",
]

log = logging.getLogger("crownsafe.api.ratelimit")

RULES = ("requests", "uploads", "shares", "failed-auth", "upload-bytes")
"""The policies, by the name the RateLimit headers give them."""
SLIDING = frozenset({"upload-bytes"})
"""Policies counted with limits' sliding window counter (costs in bytes)."""
UNITS = {"upload-bytes": "content-bytes"}
"""The RateLimit-Policy quota unit (`qu`) of a policy; `requests` when absent."""


@dataclass(frozen=True)
class Policy:
    """One limit as the RateLimit-Policy field states it."""

    name: str
    quota: int
    window: int
    unit: str = "requests"


@dataclass(frozen=True)
class Decision:
    """One counted request (or charge): allowed or not, what is left and when it resets."""

    policy: Policy
    allowed: bool
    remaining: int
    """What is left of the quota after this charge (-1: not read, see `RateLimiter.hit`)."""
    reset: int
    """Whole seconds until the policy's window ends (the RateLimit field's `t`; >= 1)."""
    retry_after: int = 0
    """Whole seconds a refused client should wait before the same request fits (0 when
    allowed)."""

    @property
    def limit(self) -> int:
        return self.policy.quota


class LimiterEvents(Protocol):
    """What the limiter reports (the app counts them in its metrics)."""

    def refused(self, policy: str) -> None: ...
    def fell_back(self) -> None: ...
    def storage_up(self, up: bool) -> None: ...


class _Quiet:
    def refused(self, policy: str) -> None:
        return None

    def fell_back(self) -> None:
        return None

    def storage_up(self, up: bool) -> None:
        return None


@dataclass
class _Outage:
    """The shared storage's state: since when it failed, and when to try it again."""

    retry_seconds: float
    failing: bool = False
    retry_at: float = 0.0
    outages: int = field(default=0)


class RateLimiter:
    """Counts requests and bytes per (policy, subject) and decides.

    `clock` (seconds since the epoch) places the fixed windows and is what Retry-After
    and the reset are measured from; give the same clock to a `ClockedMemoryStorage` to
    test windows without waiting. `fallback` takes the decisions while `storage` fails.
    """

    def __init__(
        self,
        storage: Storage,
        rules: Mapping[str, RateLimitItem | None],
        *,
        namespace: str = "crownsafe",
        clock: Callable[[], float] = time.time,
        fallback: Storage | None = None,
        retry_seconds: float = 5.0,
        events: LimiterEvents | None = None,
    ) -> None:
        unknown = set(rules) - set(RULES)
        if unknown:
            raise ValueError(f"unknown rate limit rules {sorted(unknown)}; known: {RULES}")
        self._storage = storage
        self._fallback = fallback if fallback is not None else ClockedMemoryStorage(clock)
        self._items = {name: item for name, item in rules.items() if item is not None}
        self._policies = {
            name: Policy(name, item.amount, item.get_expiry(), UNITS.get(name, "requests"))
            for name, item in self._items.items()
        }
        self._namespace = namespace
        self._clock = clock
        self._outage = _Outage(retry_seconds)
        self._events: LimiterEvents = events or _Quiet()

    def policy(self, name: str) -> Policy | None:
        """The policy `name`, or None when it is off."""
        return self._policies.get(name)

    async def hit(
        self, rule: str, subject: str, cost: int = 1, *, detail: bool = True
    ) -> Decision | None:
        """Count `cost` against `rule` for `subject` ("user:12", "ip:10.0.0.1"); None when the
        rule is off. A refused fixed-window request still counts (a client that keeps
        knocking keeps being refused); a refused sliding-window charge does not.

        `detail=False` (a sliding-window charge in the middle of an upload): an allowed
        charge is one Redis call and its decision's `remaining` is -1 (not read); a refusal
        is read in full, for its Retry-After."""
        item = self._items.get(rule)
        if item is None:
            return None
        policy = self._policies[rule]
        decide = functools.partial(self._sliding, detail=detail) if rule in SLIDING else self._fixed
        storage = self._current_storage()
        try:
            decision = await decide(storage, item, policy, subject, cost)
        except Exception as exc:
            if storage is self._fallback:
                raise
            self._failed(exc)
            decision = await decide(self._fallback, item, policy, subject, cost)
        else:
            if storage is self._storage and self._outage.failing:
                self._recovered()
        if storage is self._fallback or self._outage.failing:
            self._events.fell_back()
        if not decision.allowed:
            self._events.refused(rule)
        return decision

    async def peek(self, rule: str, subject: str, cost: int) -> Decision | None:
        """Whether `cost` would fit `rule` now, charging nothing (sliding-window policies
        only; None when the rule is off or its storage cannot answer)."""
        item = self._items.get(rule)
        if item is None or rule not in SLIDING:
            return None
        policy = self._policies[rule]
        key = item.key_for(self._namespace, policy.name, subject)
        storage = self._current_storage()
        try:
            counts = await storage.get_sliding_window(key, policy.window)  # type: ignore[attr-defined]
        except Exception as exc:
            if storage is not self._fallback:
                self._failed(exc)
            return None
        previous, previous_ttl, current, _ = counts
        used = math.floor(previous * previous_ttl / policy.window + current)
        return sliding_decision(policy, used + cost <= policy.quota, cost, *counts)

    def _current_storage(self) -> Storage:
        if self._outage.failing and self._clock() < self._outage.retry_at:
            return self._fallback
        return self._storage

    async def _fixed(
        self, storage: Storage, item: RateLimitItem, policy: Policy, subject: str, cost: int
    ) -> Decision:
        now = self._clock()
        window = policy.window
        number = math.floor(now / window)
        key = item.key_for(self._namespace, policy.name, subject, str(number))
        count = await storage.incr(key, window + 1, cost)
        reset = max(1, math.ceil((number + 1) * window - now))
        allowed = count <= policy.quota
        return Decision(policy, allowed, max(0, policy.quota - count), reset,
                        0 if allowed else reset)  # fmt: skip

    async def _sliding(
        self,
        storage: Storage,
        item: RateLimitItem,
        policy: Policy,
        subject: str,
        cost: int,
        *,
        detail: bool = True,
    ) -> Decision:
        key = item.key_for(self._namespace, policy.name, subject)
        window = policy.window
        # limits' sliding window counter: the check and the charge in one call
        allowed = bool(
            await storage.acquire_sliding_window_entry(  # type: ignore[attr-defined]
                key, policy.quota, window, cost
            )
        )
        if allowed and not detail:
            return Decision(policy, True, -1, window)
        counts = await storage.get_sliding_window(key, window)  # type: ignore[attr-defined]
        return sliding_decision(policy, allowed, cost, *counts)

    def _failed(self, exc: Exception) -> None:
        outage = self._outage
        outage.retry_at = self._clock() + outage.retry_seconds
        if outage.failing:
            log.debug("rate limit storage still failing (%s)", type(exc).__name__)
            return
        outage.failing = True
        outage.outages += 1
        self._events.storage_up(False)
        log.warning(
            "rate limit storage failed (%s); each API process now counts on its own (the "
            "limits hold per process) until it answers; trying again every %g s",
            type(exc).__name__,
            outage.retry_seconds,
        )

    def _recovered(self) -> None:
        self._outage.failing = False
        self._events.storage_up(True)
        log.warning("rate limit storage answers again; the shared counters apply")

    @property
    def outages(self) -> int:
        """How many storage outages this limiter has seen begin."""
        return self._outage.outages


def sliding_decision(
    policy: Policy,
    allowed: bool,
    cost: int,
    previous: int,
    previous_ttl: float,
    current: int,
    current_ttl: float,
) -> Decision:
    """A sliding window counter's decision from its two counts (limits' `get_sliding_window`:
    the current count's key lives two windows from its window's start, the previous count
    weighs by the share of a window its key has left).

    Retry-After of a refusal is when `cost` fits again (the weighted count below
    quota - cost + 1): the previous count's weight falls at previous / window per second
    until the current window ends (`previous_ttl` is the time left of it); then the current
    count becomes the previous one and falls at current / window per second."""
    window = policy.window
    used = previous * previous_ttl / window + current
    remaining = max(0, policy.quota - math.floor(used))
    left = max(previous_ttl, current_ttl - window if current else 0.0, 0.0)
    reset = max(1, math.ceil(left or window))
    if allowed:
        return Decision(policy, True, remaining, reset)
    room = policy.quota - cost + 1
    if cost > policy.quota:  # never fits: the quota's own window
        wait = float(window)
    elif current < room:
        wait = previous_ttl - (room - current) * window / previous if previous else 0.0
    else:
        wait = left + window - room * window / current
    return Decision(policy, False, remaining, reset, max(1, math.floor(wait) + 1))


def _redis_storage(redis_url: str) -> Storage:
    if not redis_url:
        raise ValueError(
            "RATE_LIMIT_STORAGE=redis needs REDIS_URL: set REDIS_URL (the one Redis of the "
            "app and Celery), or RATE_LIMIT_STORAGE=memory in tests"
        )
    return RedisStorage(
        f"async+{redis_url}", implementation="redispy", socket_timeout=2, socket_connect_timeout=2
    )


def build_rate_limiter(settings: Settings, events: LimiterEvents | None = None) -> RateLimiter:
    """The app's limiter from the settings (checked by `load_settings`)."""
    storage: Storage = (
        ClockedMemoryStorage()
        if settings.rate_limit_storage == "memory"
        else _redis_storage(settings.redis_url)
    )
    return RateLimiter(
        storage, rules_of(settings), namespace=f"crownsafe:{settings.container}", events=events
    )
