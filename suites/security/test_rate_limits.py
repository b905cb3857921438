"""Rate limits from outside: each policy trips at its configured number with 429 and
Retry-After, every counted response carries its budget in the IETF RateLimit fields, a
byte quota crossed half way through an upload stores nothing (not even Azure's uncommitted
blocks or an S3 multipart upload), and the limits hold through a real Redis outage.

The stacks here are the test's own (`make_api_stack`), with small budgets, so that their
refusals cannot reach other tests. Fixed windows are aligned to the clock: a test that
counts within one window first waits, when the window is about to end, for the next one
(reading how long from the RateLimit field itself).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from harness.fixtures.api import ApiStack
from harness.ratelimit_fields import in_one_window, ratelimit_fields
from harness.services.readiness import NotReadyError, wait_until_ready
from harness.services.redis import RedisService
from harness.services.stack import start_api_stack

from .helpers import assert_typed, leftovers, small_jpeg, stored

MIB = 1024 * 1024
ApiStackFactory = Callable[..., ApiStack]


def _jpeg_of(size: int) -> bytes:
    data = small_jpeg()
    return data + b"\x00" * (size - len(data))


def test_every_counted_response_carries_its_budget(api_stack: ApiStack) -> None:
    """Each authenticated response states the requests policy and what is left of it."""

    def attempt(n: int) -> list[httpx.Response]:
        client = api_stack.client(user_id=9301 + 100 * n)
        return [client.get("/scans"), client.get("/scans")]

    first, second = in_one_window(attempt, "requests")
    assert first.status_code == second.status_code == 200
    policies, budget = ratelimit_fields(first)
    quota = policies["requests"]["q"]
    assert policies["requests"]["w"] == 60 and quota == int(
        api_stack.env.get("API_REQUESTS_PER_MINUTE", "1000")
    )
    assert budget["requests"]["r"] == quota - 1 and 1 <= budget["requests"]["t"] <= 60
    assert ratelimit_fields(second)[1]["requests"]["r"] == quota - 2
    health = api_stack.client().get("/health")
    assert "ratelimit" not in health.headers, "health is not counted"


def test_the_requests_policy_trips_at_its_number(
    backend_name: str, make_api_stack: ApiStackFactory
) -> None:
    """API_REQUESTS_PER_MINUTE=5: five answers, then 429 with Retry-After to the window's end;
    another user goes on."""
    stack = make_api_stack(backend_name, worker=False, API_REQUESTS_PER_MINUTE="5")

    def attempt(n: int) -> list[httpx.Response]:
        client = stack.client(user_id=9302 + 100 * n)
        return [client.get("/scans") for _ in range(6)]

    answers = in_one_window(attempt, "requests")
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert [ratelimit_fields(a)[1]["requests"]["r"] for a in answers] == [4, 3, 2, 1, 0, 0]
    error = assert_typed(answers[-1], 429, "too_many_requests")
    assert "'requests'" in error["message"] and "at most 5" in error["message"]
    retry_after = int(answers[-1].headers["retry-after"])
    assert (
        retry_after == ratelimit_fields(answers[-1])[1]["requests"]["t"] and 1 <= retry_after <= 60
    )
    assert stack.client(user_id=9303).get("/scans").status_code == 200
    # the reset itself is on the clock: suites/unit/crownsafe/api/test_ratelimit.py


def test_failed_authentications_are_limited_per_address_on_every_route(
    backend_name: str, make_api_stack: ApiStackFactory
) -> None:
    """RATE_LIMIT_UNAUTHENTICATED=3/day: three 401s from one address, then 429 on any route;
    a valid token from that address still works."""
    stack = make_api_stack(backend_name, worker=False, RATE_LIMIT_UNAUTHENTICATED="3/day")
    anonymous = stack.client()
    wrong = stack.client(headers={"Authorization": "Bearer not.a.token"})

    def attempt(n: int) -> list[httpx.Response]:
        return [anonymous.get("/scans"), wrong.get("/metrics"), anonymous.get("/uploads/x"),
                wrong.post("/scans", json={"url": "https://example.com"})]  # fmt: skip

    answers = in_one_window(attempt, "failed-auth")
    assert [a.status_code for a in answers] == [401, 401, 401, 429]
    assert_typed(answers[-1], 429, "too_many_requests")
    assert 1 <= int(answers[-1].headers["retry-after"]) <= 24 * 3600
    assert ratelimit_fields(answers[-1])[0]["failed-auth"] == {"q": 3, "w": 24 * 3600}
    assert stack.client(user_id=9304).get("/scans").status_code == 200


def test_a_byte_quota_crossed_mid_upload_stores_nothing(
    backend_name: str, make_api_stack: ApiStackFactory
) -> None:
    """UPLOAD_BYTES_PER_HOUR=5 MiB: 3 MiB goes up; the next 3 MiB multipart upload is 429
    part way and leaves no bytes behind; a raw upload whose length cannot fit is 429 before
    its body is read; what is left of the quota still takes an upload."""
    stack = make_api_stack(backend_name, worker=False, UPLOAD_BYTES_PER_HOUR=str(5 * MIB))
    user = 9305
    client = stack.client(user_id=user)
    prefix = f"uploads/{user}/"
    first = client.post("/uploads", files={"file": ("a.jpg", _jpeg_of(3 * MIB), "image/jpeg")})
    assert first.status_code == 202, first.text
    budget = ratelimit_fields(first)[1]["upload-bytes"]["r"]
    assert 2 * MIB - 64 * 1024 <= budget <= 2 * MIB
    before = stored(stack)
    crossing = client.post("/uploads", files={"file": ("b.jpg", _jpeg_of(3 * MIB), "image/jpeg")})
    error = assert_typed(crossing, 429, "too_many_requests")
    assert "'upload-bytes'" in error["message"]
    assert int(crossing.headers["retry-after"]) >= 1
    raw = client.post("/uploads", content=_jpeg_of(3 * MIB),
                      headers={"Content-Type": "image/jpeg"})  # fmt: skip
    assert_typed(raw, 429, "too_many_requests")
    assert raw.headers.get("connection") == "close"
    assert stored(stack) == before
    assert len(leftovers(stack, prefix)) == 1, leftovers(stack, prefix)
    # the bytes received before the refusal stay charged; what is left still goes up
    left = ratelimit_fields(crossing)[1]["upload-bytes"]["r"]
    assert 0 < left < budget
    small = client.post(
        "/uploads", content=_jpeg_of(left // 2), headers={"Content-Type": "image/jpeg"}
    )
    assert small.status_code == 202, small.text


def _metric(stack: ApiStack, name: str, user: int) -> float:
    """The sum of `name`'s samples on /metrics (read as `user`: each read is counted)."""
    text = stack.client(user_id=user).get("/metrics").text
    values = [float(line.split()[-1]) for line in text.splitlines() if line.startswith(name)]
    assert values, f"{name} not exposed"
    return sum(values)


def test_limits_hold_per_process_through_a_redis_outage(
    backend_name: str, storage_services: Any, postgres_service: Any, run_dir: Path
) -> None:
    """The app's Redis process is stopped mid-run: requests go on, the limits hold per
    process, the outage is logged once and counted; Redis back: the shared counters again."""
    logs = run_dir / "logs" / f"redis-outage-{backend_name}"
    readers = itertools.count(9500)
    with RedisService(log_dir=logs) as redis:
        stack = start_api_stack(storage_services, postgres_service, redis.url, backend_name,
                                logs, worker=False, name="outage",
                                API_REQUESTS_PER_MINUTE="4")  # fmt: skip
        try:

            def attempt(n: int) -> list[httpx.Response]:
                client = stack.client(user_id=9306 + 100 * n)
                shared = client.get("/scans")
                with redis.outage():
                    answers = [client.get("/scans") for _ in range(5)]
                    assert _metric(stack, "crownsafe_rate_limit_storage_up", next(readers)) == 0
                return [shared, *answers]

            answers = in_one_window(attempt, "requests")
            assert [a.status_code for a in answers] == [200] * 5 + [429], (
                "a fresh per-process budget of 4 holds while Redis is down"
            )
            assert _metric(stack, "crownsafe_rate_limit_storage_outages_total", next(readers)) >= 1

            def shared_again() -> None:
                if _metric(stack, "crownsafe_rate_limit_storage_up", next(readers)) != 1:
                    raise NotReadyError("the app still counts on its own")

            wait_until_ready(shared_again, timeout=30, interval=0.5)
            assert stack.app.log_path is not None
            log = stack.app.log_path.read_text(errors="replace")
            outages = log.count("rate limit storage failed")
            assert outages == log.count("rate limit storage answers again") >= 1
            assert outages == _metric(
                stack, "crownsafe_rate_limit_storage_outages_total", next(readers)
            ), "logged once per outage"
            assert _metric(stack, "crownsafe_rate_limit_fallback_decisions_total",
                           next(readers)) >= 5  # fmt: skip
            assert "Traceback" not in log
        finally:
            stack.stop()
