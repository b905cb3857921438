"""HealthCache: results reused for the TTL (injected clock), one check at a time."""

from __future__ import annotations

import anyio

from crownsafe.api.health_cache import HealthCache


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_results_are_reused_within_the_ttl_and_renewed_after() -> None:
    clock = _Clock()
    cache = HealthCache(ttl=1.0, clock=clock)
    calls: list[float] = []

    async def check() -> dict[str, str]:
        calls.append(clock.now)
        return {"database": "ok" if len(calls) == 1 else "timeout"}

    async def main() -> list[dict[str, str]]:
        seen = [await cache.get(check)]
        clock.now += 0.99
        seen.append(await cache.get(check))
        clock.now += 0.02
        seen.append(await cache.get(check))
        return seen

    seen = anyio.run(main)
    assert len(calls) == 2 and calls[0] == 100.0
    assert seen == [{"database": "ok"}, {"database": "ok"}, {"database": "timeout"}]


def test_concurrent_requests_share_one_check() -> None:
    cache = HealthCache(ttl=1.0, clock=_Clock())
    calls = 0

    async def check() -> dict[str, str]:
        nonlocal calls
        calls += 1
        await anyio.sleep(0)  # let the other requests queue up behind the lock
        return {"redis": "ok"}

    async def main() -> list[dict[str, str]]:
        results: list[dict[str, str]] = []

        async def one() -> None:
            results.append(await cache.get(check))

        async with anyio.create_task_group() as group:
            for _ in range(5):
                group.start_soon(one)
        return results

    assert anyio.run(main) == [{"redis": "ok"}] * 5
    assert calls == 1
