"""The rate limit policies: budgets per policy and subject, fixed windows aligned to an
injected clock, the sliding byte quota and its Retry-After, the per-process fallback while
the shared storage fails, the RateLimit header fields, settings that refuse nonsense."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

import http_sf
import pytest
from limits import RateLimitItemPerHour

from crownsafe.api.ratelimit import ClockedMemoryStorage, Decision, RateLimiter, parse_rule
from crownsafe.api.ratelimit_http import policy_field, ratelimit_field
from crownsafe.config import load_settings
from crownsafe.errors import ApiConfigError
from crownsafe.rate_limits import rules_of

START = 1_000_020.0
"""A clock reading at the start of a minute and of an hour window (1_000_020 = 60 * 16667;
3600 * 278 = 1_000_800 is the next hour)."""


class Clock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Events:
    def __init__(self) -> None:
        self.refusals: list[str] = []
        self.fallbacks = 0
        self.up: list[bool] = []

    def refused(self, policy: str) -> None:
        self.refusals.append(policy)

    def fell_back(self) -> None:
        self.fallbacks += 1

    def storage_up(self, up: bool) -> None:
        self.up.append(up)


def _limiter(
    clock: Clock,
    uploads: str = "3/minute",
    shares: str = "2/minute",
    quota: int | None = None,
    storage: ClockedMemoryStorage | None = None,
    events: Events | None = None,
) -> RateLimiter:
    rules = {
        "uploads": parse_rule(uploads, "RATE_LIMIT_UPLOADS"),
        "shares": parse_rule(shares, "RATE_LIMIT_SHARES"),
        "failed-auth": parse_rule("2/second", "RATE_LIMIT_UNAUTHENTICATED"),
        "upload-bytes": RateLimitItemPerHour(quota) if quota else None,
    }
    return RateLimiter(
        storage or ClockedMemoryStorage(clock),
        rules,
        clock=clock,
        fallback=ClockedMemoryStorage(clock),
        events=events,
    )


def _hit(limiter: RateLimiter, rule: str, subject: str, cost: int = 1) -> Decision:
    decision = asyncio.run(limiter.hit(rule, subject, cost))
    assert decision is not None
    return decision


def _hits(limiter: RateLimiter, rule: str, subject: str, n: int) -> list[bool]:
    return [_hit(limiter, rule, subject).allowed for _ in range(n)]


def test_the_n_plus_first_request_is_refused_until_the_window_ends() -> None:
    clock = Clock()
    limiter = _limiter(clock)
    assert _hits(limiter, "uploads", "user:1", 3) == [True, True, True]
    clock.now += 20.4
    refused = _hit(limiter, "uploads", "user:1")
    assert not refused.allowed
    assert (refused.limit, refused.remaining, refused.retry_after, refused.reset) == (3, 0, 40, 40)


def test_a_window_ends_on_the_clock_not_a_minute_after_the_first_request() -> None:
    clock = Clock(START + 50)
    limiter = _limiter(clock)
    first = _hit(limiter, "uploads", "user:1")
    assert (first.remaining, first.reset) == (2, 10)
    assert _hits(limiter, "uploads", "user:1", 3) == [True, True, False]
    clock.now += 9.9
    assert _hits(limiter, "uploads", "user:1", 1) == [False]
    clock.now += 0.1
    assert _hits(limiter, "uploads", "user:1", 4) == [True, True, True, False]


def test_users_policies_and_ips_have_their_own_budgets() -> None:
    clock = Clock()
    limiter = _limiter(clock)
    assert _hits(limiter, "uploads", "user:1", 4)[-1] is False
    assert _hits(limiter, "uploads", "user:2", 3) == [True, True, True]
    assert _hits(limiter, "shares", "user:1", 3) == [True, True, False]
    assert _hits(limiter, "failed-auth", "ip:10.0.0.1", 3) == [True, True, False]
    assert _hits(limiter, "failed-auth", "ip:10.0.0.2", 1) == [True]
    clock.now += 1
    assert _hits(limiter, "failed-auth", "ip:10.0.0.1", 1) == [True]


def test_a_policy_that_is_off_is_not_counted() -> None:
    limiter = _limiter(Clock(), uploads="off")
    assert limiter.policy("uploads") is None
    assert asyncio.run(limiter.hit("uploads", "user:1")) is None


MIB = 1024 * 1024


def test_the_byte_quota_takes_charges_up_to_its_size_and_refuses_the_one_that_crosses() -> None:
    clock = Clock()
    limiter = _limiter(clock, quota=10 * MIB)
    for _ in range(9):
        assert _hit(limiter, "upload-bytes", "user:1", MIB).allowed
    crossing = _hit(limiter, "upload-bytes", "user:1", 2 * MIB)
    assert not crossing.allowed and crossing.remaining == MIB
    # a refused charge is not counted: the last MiB still fits, then nothing does
    assert _hit(limiter, "upload-bytes", "user:1", MIB).allowed
    assert _hit(limiter, "upload-bytes", "user:1", 1).allowed is False
    assert _hit(limiter, "upload-bytes", "user:2", 10 * MIB).allowed


def test_the_byte_quota_slides_back_as_the_previous_hour_ages() -> None:
    clock = Clock(1_000_800.0)  # the start of an hour window
    limiter = _limiter(clock, quota=100)
    assert _hit(limiter, "upload-bytes", "user:1", 100).allowed
    clock.now += 3600 + 900  # a quarter into the next hour: 75% of the last hour still weighs
    assert _hit(limiter, "upload-bytes", "user:1", 26).allowed is False
    assert _hit(limiter, "upload-bytes", "user:1", 25).allowed
    # a fixed window would have given the whole 100 back at the boundary: twice the quota
    # within 15 minutes


def test_a_refused_charge_says_when_it_fits_and_it_fits_then() -> None:
    clock = Clock(1_000_800.0)
    limiter = _limiter(clock, quota=1000)
    assert _hit(limiter, "upload-bytes", "user:1", 1000).allowed
    clock.now += 3600 + 600
    refused = _hit(limiter, "upload-bytes", "user:1", 400)
    assert not refused.allowed
    wait = refused.retry_after
    # 1000 * (3000 - t) / 3600 must fall below 1000 - 400 + 1: t > 836.4
    assert wait == 837
    clock.now += wait - 1
    assert _hit(limiter, "upload-bytes", "user:1", 400).allowed is False
    clock.now += 1
    assert _hit(limiter, "upload-bytes", "user:1", 400).allowed


def test_a_peek_charges_nothing() -> None:
    limiter = _limiter(Clock(), quota=100)
    peeked = asyncio.run(limiter.peek("upload-bytes", "user:1", 60))
    assert peeked is not None and peeked.allowed and peeked.remaining == 100
    assert _hit(limiter, "upload-bytes", "user:1", 60).allowed
    refused = asyncio.run(limiter.peek("upload-bytes", "user:1", 60))
    assert refused is not None and not refused.allowed and refused.retry_after >= 1
    assert _hit(limiter, "upload-bytes", "user:1", 40).allowed


class _Switchable(ClockedMemoryStorage):
    """A shared storage that can go down (raising as redis-py does) and come back."""

    def __init__(self, clock: Clock) -> None:
        super().__init__(clock)
        self.down = False
        self.calls = 0

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        self.calls += 1
        if self.down:
            raise ConnectionError("Error 111 connecting to 127.0.0.1:6390. Connection refused.")
        return await super().incr(key, expiry, amount)


def test_a_storage_outage_falls_back_to_the_process_counters(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    events = Events()
    shared = _Switchable(clock)
    limiter = _limiter(clock, uploads="3/minute", storage=shared, events=events)
    assert _hits(limiter, "uploads", "user:1", 2) == [True, True]
    shared.down = True
    with caplog.at_level(logging.DEBUG, logger="crownsafe.api.ratelimit"):
        # the process counts on its own: its budget starts afresh but still holds
        assert _hits(limiter, "uploads", "user:1", 4) == [True, True, True, False]
        calls = shared.calls
        clock.now += 4.9
        assert _hits(limiter, "uploads", "user:1", 1) == [False]
        assert shared.calls == calls, "Redis is not asked again before retry_seconds"
        shared.down = False
        clock.now += 0.1
        # the shared counters again, with the 2 counted before the outage
        assert _hits(limiter, "uploads", "user:1", 2) == [True, False]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2, warnings
    assert "ConnectionError" in warnings[0] and "per process" in warnings[0]
    assert "answers again" in warnings[1]
    assert not any("127.0.0.1" in message for message in warnings)
    assert events.up == [False, True] and limiter.outages == 1
    assert events.fallbacks == 5
    assert events.refusals == ["uploads"] * 3


def test_the_header_fields_are_structured_field_lists() -> None:
    limiter = _limiter(Clock(START + 18), quota=100 * 1000 * 1000)
    decisions = [
        _hit(limiter, "uploads", "user:1"),
        _hit(limiter, "upload-bytes", "user:1", 1000),
    ]
    policies = cast(list[Any], http_sf.parse(policy_field(decisions).encode(), tltype="list"))
    assert policies == [
        ("uploads", {"q": 3, "w": 60}),
        ("upload-bytes", {"q": 100_000_000, "w": 3600, "qu": "content-bytes"}),
    ]
    remaining = cast(list[Any], http_sf.parse(ratelimit_field(decisions).encode(), tltype="list"))
    assert remaining[0] == ("uploads", {"r": 2, "t": 42})
    name, params = remaining[1]
    assert name == "upload-bytes" and params["r"] == 100_000_000 - 1000 and params["t"] >= 1


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("RATE_LIMIT_UPLOADS", "lots"),
        ("RATE_LIMIT_UPLOADS", "0/minute"),
        ("RATE_LIMIT_SHARES", "5/fortnight"),
        ("API_REQUESTS_PER_MINUTE", "many"),
        ("API_REQUESTS_PER_MINUTE", "0"),
        ("UPLOAD_BYTES_PER_HOUR", "100MB"),
        ("UPLOAD_BYTES_PER_HOUR", "-1"),
    ],
)
def test_nonsense_limits_are_refused_when_settings_load(variable: str, value: str) -> None:
    env = {"JWT_SECRET": "s" * 32, variable: value}
    with pytest.raises(ApiConfigError, match=variable) as raised:
        load_settings(env)
    assert "off" in str(raised.value)


def test_an_unknown_counter_storage_is_refused() -> None:
    env = {"JWT_SECRET": "s" * 32, "RATE_LIMIT_STORAGE": "postgres"}
    with pytest.raises(ApiConfigError, match="RATE_LIMIT_STORAGE"):
        load_settings(env)


def test_the_defaults_are_the_seeds() -> None:
    rules = rules_of(load_settings({"JWT_SECRET": "s" * 32}))
    assert {name: (item.amount, item.get_expiry()) for name, item in rules.items() if item} == {
        "requests": (1000, 60),
        "uploads": (120, 60),
        "shares": (60, 60),
        "failed-auth": (120, 60),
        "upload-bytes": (100_000_000, 3600),
    }


def test_every_policy_can_be_turned_off() -> None:
    env = {"JWT_SECRET": "s" * 32, "API_REQUESTS_PER_MINUTE": "off", "UPLOAD_BYTES_PER_HOUR": "off",
           "RATE_LIMIT_UPLOADS": "off", "RATE_LIMIT_SHARES": "off",
           "RATE_LIMIT_UNAUTHENTICATED": "off"}  # fmt: skip
    assert all(item is None for item in rules_of(load_settings(env)).values())


class _Counting(ClockedMemoryStorage):
    def __init__(self, clock: Clock) -> None:
        super().__init__(clock)
        self.reads = 0

    async def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        self.reads += 1
        return await super().get_sliding_window(key, expiry)


def test_a_charge_in_the_middle_of_an_upload_reads_nothing_back_unless_refused() -> None:
    clock = Clock()
    storage = _Counting(clock)
    limiter = _limiter(clock, quota=100, storage=storage)
    calls = storage.reads
    allowed = asyncio.run(limiter.hit("upload-bytes", "user:1", 60, detail=False))
    assert allowed is not None and allowed.allowed and allowed.remaining == -1
    refused = asyncio.run(limiter.hit("upload-bytes", "user:1", 60, detail=False))
    assert refused is not None and not refused.allowed and refused.remaining == 40
    assert refused.retry_after >= 1
    # acquire_sliding_window_entry reads the window itself (its Lua script in Redis): the
    # allowed charge adds no read of its own, the refusal one
    assert storage.reads - calls == 2 + 1
