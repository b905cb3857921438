"""`/health/azure-storage` reports the storage circuit breaker: open is not healthy.

Before, the route only listed one blob: with the breaker open (every upload and share
answering 503) it said healthy as soon as the account answered.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import anyio
import pytest

from crownsafe.api.routes.health import storage_health
from crownsafe.resilience import CircuitBreaker


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def _health(breaker: CircuitBreaker) -> tuple[int, dict[str, Any]]:
    state: Any = SimpleNamespace(
        storage=SimpleNamespace(backend="azure", breaker=breaker),
        health_storage=SimpleNamespace(list_blobs=lambda max_results: []),
    )
    response = anyio.run(storage_health, state)
    return response.status_code, json.loads(bytes(response.body))


@pytest.mark.parametrize(
    ("opened_for", "status", "reading", "failing"),
    [
        (None, 200, "ok", []),
        (10.0, 503, "open: storage calls are refused", ["circuit_breaker"]),
        (60.0, 200, "ok (half-open: trial calls pass)", []),
    ],
    ids=["closed", "open", "half-open"],
)
def test_the_breaker_state_is_reported(
    opened_for: float | None, status: int, reading: str, failing: list[str]
) -> None:
    clock = Clock()
    breaker = CircuitBreaker("azure-storage", recovery_timeout=60.0, clock=clock)
    if opened_for is not None:
        breaker.force_open()
        clock.now += opened_for
    code, body = _health(breaker)
    assert code == status
    assert body["checks"] == {"storage": "ok", "circuit_breaker": reading}
    assert body["failing"] == failing
    assert body["status"] == ("healthy" if status == 200 else "unhealthy")
