"""The rate limit policy: budgets per rule and subject, windows on an injected clock,
Retry-After from that clock, fail-open on a storage outage, settings that refuse nonsense."""

from __future__ import annotations

import asyncio
import logging

import pytest

from crownsafe.api.ratelimit import ClockedMemoryStorage, RateLimiter, parse_rule
from crownsafe.config import load_settings
from crownsafe.errors import ApiConfigError


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _limiter(clock: Clock, uploads: str = "3/minute", shares: str = "2/minute") -> RateLimiter:
    rules = {
        "uploads": parse_rule(uploads, "RATE_LIMIT_UPLOADS"),
        "shares": parse_rule(shares, "RATE_LIMIT_SHARES"),
        "unauthenticated": parse_rule("2/second", "RATE_LIMIT_UNAUTHENTICATED"),
    }
    return RateLimiter(ClockedMemoryStorage(clock), rules, clock=clock)


def _hits(limiter: RateLimiter, rule: str, subject: str, n: int) -> list[bool]:
    async def run() -> list[bool]:
        return [(await limiter.hit(rule, subject)).allowed for _ in range(n)]

    return asyncio.run(run())


def test_the_n_plus_first_request_is_refused_with_retry_after_from_the_clock() -> None:
    clock = Clock()
    limiter = _limiter(clock)
    assert _hits(limiter, "uploads", "user:1", 3) == [True, True, True]
    clock.now += 20.4
    refused = asyncio.run(limiter.hit("uploads", "user:1"))
    assert not refused.allowed
    assert (refused.limit, refused.remaining, refused.retry_after) == (3, 0, 40)


def test_the_window_resets_on_the_clock() -> None:
    clock = Clock()
    limiter = _limiter(clock)
    assert _hits(limiter, "uploads", "user:1", 4) == [True, True, True, False]
    clock.now += 59.9
    assert _hits(limiter, "uploads", "user:1", 1) == [False]
    clock.now += 0.1
    assert _hits(limiter, "uploads", "user:1", 4) == [True, True, True, False]


def test_users_rules_and_ips_have_their_own_budgets() -> None:
    clock = Clock()
    limiter = _limiter(clock)
    assert _hits(limiter, "uploads", "user:1", 4)[-1] is False
    assert _hits(limiter, "uploads", "user:2", 3) == [True, True, True]
    assert _hits(limiter, "shares", "user:1", 3) == [True, True, False]
    assert _hits(limiter, "unauthenticated", "ip:10.0.0.1", 3) == [True, True, False]
    assert _hits(limiter, "unauthenticated", "ip:10.0.0.2", 1) == [True]
    clock.now += 1
    assert _hits(limiter, "unauthenticated", "ip:10.0.0.1", 1) == [True]


def test_a_rule_that_is_off_never_refuses() -> None:
    limiter = _limiter(Clock(), uploads="off")
    assert all(_hits(limiter, "uploads", "user:1", 50))


class _Down(ClockedMemoryStorage):
    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        raise ConnectionError("redis is down")


def test_a_storage_outage_fails_open_and_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    rules = {"uploads": parse_rule("1/minute", "RATE_LIMIT_UPLOADS")}
    limiter = RateLimiter(_Down(), rules)
    with caplog.at_level(logging.DEBUG, logger="crownsafe.api.ratelimit"):
        assert all(_hits(limiter, "uploads", "user:1", 3))
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "ConnectionError" in warnings[0].getMessage()


@pytest.mark.parametrize("value", ["lots", "0/minute", "5/fortnight"])
def test_nonsense_limits_are_refused_when_settings_load(value: str) -> None:
    env = {"JWT_SECRET": "s" * 32, "RATE_LIMIT_UPLOADS": value}
    with pytest.raises(ApiConfigError, match="RATE_LIMIT_UPLOADS"):
        load_settings(env)


def test_an_unknown_counter_storage_is_refused() -> None:
    env = {"JWT_SECRET": "s" * 32, "RATE_LIMIT_STORAGE": "postgres"}
    with pytest.raises(ApiConfigError, match="RATE_LIMIT_STORAGE"):
        load_settings(env)


def test_defaults_parse() -> None:
    settings = load_settings({"JWT_SECRET": "s" * 32})
    assert parse_rule(settings.rate_limit_uploads, "RATE_LIMIT_UPLOADS") is not None
    assert settings.rate_limit_storage == "redis"
