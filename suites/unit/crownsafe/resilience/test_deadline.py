"""The overall deadline of one logical call, on an injected clock (exact and instant).

A storage endpoint that accepts connections but never answers used to hold one call for
(max_retries + 1) x timeout + backoff = 4 x 30 + 1 + 2 + 4 = 127 s with default settings.
With STORAGE_DEADLINE_SECONDS the retries stop once the next backoff would pass the
deadline, and each attempt's timeout is capped by the time left where the SDK allows it.
"""

from __future__ import annotations

import asyncio
import math

import pytest

from crownsafe.config import Settings, load_settings
from crownsafe.deadline import deadline_scope, time_left
from crownsafe.errors import StorageConfigError, StorageUnavailableError
from crownsafe.resilience import CircuitBreaker, RetryPolicy
from crownsafe.storage.azure import AzureBlobStorageClient
from crownsafe.storage.factory import check_storage_settings
from crownsafe.storage.resilient import ResilientStorageClient

TIMEOUT = 30.0
EMULATOR_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
CONNECTION_STRING = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
    f"AccountKey={EMULATOR_KEY};BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;"
)


class Clock:
    """Monotonic seconds that move only when the code under test sleeps or 'waits'."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class BlackHole:
    """An endpoint that never answers: each attempt 'waits' its whole timeout, which is the
    configured one or, when `capped`, the time left of the call's deadline."""

    def __init__(self, clock: Clock, *, capped: bool) -> None:
        self.clock, self.capped = clock, capped
        self.attempts: list[tuple[float, float]] = []

    def __call__(self) -> str:
        left = time_left()
        waited = min(TIMEOUT, left) if self.capped and left is not None else TIMEOUT
        self.attempts.append((self.clock.now, waited))
        self.clock.now += waited
        raise StorageUnavailableError("read timed out", operation="upload_file")


def policy(clock: Clock, deadline: float | None) -> RetryPolicy:
    return RetryPolicy(
        max_retries=3,
        base_delay=1.0,
        jitter="none",
        sleep=clock.sleep,
        clock=clock,
        deadline=deadline,
    )


def test_without_a_deadline_a_silent_endpoint_holds_a_call_for_127_seconds() -> None:
    """The old worst case, for reference: 4 attempts x 30 s + 1 + 2 + 4 s of backoff."""
    clock = Clock()
    hole = BlackHole(clock, capped=False)
    with pytest.raises(StorageUnavailableError):
        policy(clock, None).call(hole)
    assert len(hole.attempts) == 4 and clock.sleeps == [1.0, 2.0, 4.0]
    assert clock.now - 1000.0 == 127.0


def test_the_deadline_caps_a_call_at_60_seconds_when_attempts_can_be_capped() -> None:
    """Default settings (30 s timeout, deadline 60 s), Azure-style capped timeouts: attempt 1
    0..30 s, backoff 1 s, attempt 2 31..60 s capped to 29 s; then no time is left."""
    clock = Clock()
    hole = BlackHole(clock, capped=True)
    with pytest.raises(StorageUnavailableError):
        policy(clock, 60.0).call(hole)
    assert hole.attempts == [(1000.0, 30.0), (1031.0, 29.0)]
    assert clock.sleeps == [1.0]
    assert clock.now - 1000.0 == 60.0


def test_without_per_call_timeouts_the_last_attempt_may_overrun_by_one_timeout() -> None:
    """S3-style fixed timeouts: no retry starts past the deadline, so the call ends within
    deadline + one timeout (here 61 s: 30 + 1 + 30)."""
    clock = Clock()
    hole = BlackHole(clock, capped=False)
    with pytest.raises(StorageUnavailableError):
        policy(clock, 60.0).call(hole)
    assert [start - 1000.0 for start, _ in hole.attempts] == [0.0, 31.0]
    assert clock.now - 1000.0 == 61.0 <= 60.0 + TIMEOUT


def test_a_retry_whose_backoff_would_end_past_the_deadline_is_not_made() -> None:
    """Attempts that fail fast keep retrying until the backoff would cross the deadline."""
    clock = Clock()
    calls: list[float] = []

    def fails_after_two_seconds() -> None:
        calls.append(clock.now)
        clock.now += 2.0
        raise StorageUnavailableError("503")

    with pytest.raises(StorageUnavailableError):
        policy(clock, 6.0).call(fails_after_two_seconds)
    # 0..2, sleep 1 -> 3..5, sleep 2 would end at 7 > 6: stop after 2 attempts
    assert [t - 1000.0 for t in calls] == [0.0, 3.0] and clock.sleeps == [1.0]


def test_fast_failures_use_every_retry_inside_the_deadline() -> None:
    clock = Clock()
    calls: list[float] = []

    def fails_at_once() -> None:
        calls.append(clock.now)
        raise StorageUnavailableError("503")

    with pytest.raises(StorageUnavailableError):
        policy(clock, 60.0).call(fails_at_once)
    assert len(calls) == 4 and clock.sleeps == [1.0, 2.0, 4.0]


def test_success_inside_the_deadline_is_returned_and_the_scope_ends_with_the_call() -> None:
    clock = Clock()
    seen: list[float | None] = []

    def second_time_lucky() -> str:
        seen.append(time_left())
        if len(seen) == 1:
            clock.now += 5.0
            raise StorageUnavailableError("503")
        return "ok"

    assert policy(clock, 60.0).call(second_time_lucky) == "ok"
    assert seen == [60.0, 54.0]  # 60 - 5 s attempt - 1 s backoff
    assert time_left() is None


def test_the_async_path_keeps_the_same_deadline() -> None:
    clock = Clock()
    attempts: list[float] = []

    async def silent() -> None:
        left = time_left()
        assert left is not None
        attempts.append(clock.now)
        clock.now += min(TIMEOUT, left)
        raise StorageUnavailableError("read timed out")

    with pytest.raises(StorageUnavailableError):
        asyncio.run(policy(clock, 60.0).call_async(silent))
    assert [t - 1000.0 for t in attempts] == [0.0, 31.0] and clock.now - 1000.0 == 60.0


def test_the_resilient_client_takes_the_deadline_from_settings() -> None:
    """STORAGE_DEADLINE_SECONDS reaches the retry policy through from_settings()."""
    settings = load_settings({"STORAGE_DEADLINE_SECONDS": "12.5"})
    assert settings.storage_deadline_seconds == 12.5 and Settings().storage_deadline_seconds == 60
    inner = AzureBlobStorageClient("unit-deadline", connection_string=CONNECTION_STRING)
    try:
        client = ResilientStorageClient.from_settings(
            inner, settings, breaker=CircuitBreaker("unit-deadline")
        )
        assert client.retry.deadline == 12.5
    finally:
        inner.close()


@pytest.mark.parametrize("value", [0.0, -1.0, math.inf])
def test_a_deadline_that_is_not_positive_and_finite_is_a_config_error(value: float) -> None:
    with pytest.raises(StorageConfigError, match="STORAGE_DEADLINE_SECONDS"):
        check_storage_settings(Settings(storage_backend="s3", storage_deadline_seconds=value))


def test_azure_attempts_get_their_timeouts_capped_by_the_time_left() -> None:
    """Azure's transport takes per-call connection/read timeouts: inside a deadline with 5 s
    left a request gets 5 s, not the client's 30 s; outside one it keeps the default."""
    clock = Clock()
    client = AzureBlobStorageClient(
        "unit-deadline", connection_string=CONNECTION_STRING, timeout=TIMEOUT
    )
    try:
        assert "read_timeout" not in client._call_options()
        with deadline_scope(clock() + 5.0, clock):
            options = client._call_options()
        assert (options["connection_timeout"], options["read_timeout"]) == (5.0, 5.0)
        with deadline_scope(clock() + 45.0, clock):
            assert "read_timeout" not in client._call_options()
    finally:
        client.close()
