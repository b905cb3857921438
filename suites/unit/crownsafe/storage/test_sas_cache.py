"""SasUrlCache's rules, on an in-memory stand-in for Redis (pure logic; the benchmark and
the API use the real Redis)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from crownsafe.storage.sas_cache import SasUrlCache


class FakeRedis:
    def __init__(self, *, fail: bool = False) -> None:
        self.data: dict[str, tuple[str, int]] = {}
        self.fail = fail

    def get(self, name: str) -> bytes | None:
        if self.fail:
            raise ConnectionError("redis down")
        found = self.data.get(name)
        return found[0].encode() if found else None

    def set(self, name: str, value: str, *, ex: int) -> None:
        if self.fail:
            raise ConnectionError("redis down")
        self.data[name] = (value, ex)

    def delete(self, *names: str) -> None:
        if self.fail:
            raise ConnectionError("redis down")
        for name in names:
            self.data.pop(name, None)


def _minter() -> tuple[list[str], Callable[[], str]]:
    made: list[str] = []

    def mint() -> str:
        made.append(f"https://u/{len(made)}")
        return made[-1]

    return made, mint


def test_a_url_is_kept_for_its_lifetime_less_the_minimum_left_to_the_client() -> None:
    redis = FakeRedis()
    cache = SasUrlCache(redis, namespace="c1", min_lifetime_s=60)
    made, mint = _minter()
    first = cache.get_or_mint("a.jpg", "r", 300, mint)
    assert cache.get_or_mint("a.jpg", "r", 300, mint) == first
    assert made == [first]
    ((key, (_, ttl)),) = redis.data.items()
    assert ttl == 240 and key.endswith(":r:a.jpg") and ":c1:" in key


def test_permissions_and_containers_do_not_share_urls() -> None:
    redis = FakeRedis()
    made, mint = _minter()
    SasUrlCache(redis, namespace="c1", min_lifetime_s=60).get_or_mint("a", "r", 300, mint)
    SasUrlCache(redis, namespace="c1", min_lifetime_s=60).get_or_mint("a", "w", 300, mint)
    SasUrlCache(redis, namespace="c2", min_lifetime_s=60).get_or_mint("a", "r", 300, mint)
    assert len(made) == 3 and len(redis.data) == 3


def test_a_url_too_short_lived_to_leave_the_minimum_is_not_cached() -> None:
    redis = FakeRedis()
    made, mint = _minter()
    cache = SasUrlCache(redis, namespace="c", min_lifetime_s=60)
    cache.get_or_mint("a", "r", 60.5, mint)
    cache.get_or_mint("a", "r", 60.5, mint)
    assert len(made) == 2 and redis.data == {}


def test_drop_forgets_every_permission_of_the_blob() -> None:
    redis = FakeRedis()
    _made, mint = _minter()
    cache = SasUrlCache(redis, namespace="c", min_lifetime_s=60)
    for permission in ("r", "w"):
        cache.get_or_mint("a", permission, 300, mint)
    cache.get_or_mint("b", "r", 300, mint)
    cache.drop("a")
    assert [k.rsplit(":", 1)[1] for k in redis.data] == ["b"]


def test_redis_down_mints_every_time_and_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    cache = SasUrlCache(FakeRedis(fail=True), namespace="c", min_lifetime_s=60)
    made, mint = _minter()
    with caplog.at_level(logging.DEBUG, logger="crownsafe.storage.sas_cache"):
        urls = [cache.get_or_mint("a", "r", 300, mint) for _ in range(3)]
        cache.drop("a")
    assert urls == made and len(made) == 3
    assert [r.levelname for r in caplog.records] == ["WARNING", "DEBUG", "DEBUG", "DEBUG"]
