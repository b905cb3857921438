"""Unit tests of crownsafe.resilience.breaker with an injected clock (no I/O, no sleeping)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from crownsafe.errors import (
    BlobConflictError,
    BlobNotFoundError,
    InvalidBlobNameError,
    StorageAuthError,
    StorageError,
    StorageUnavailableError,
)
from crownsafe.resilience import (
    CircuitBreaker,
    CircuitOpenError,
    CircuitState,
    azure_storage_circuit_breaker,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def state(breaker: CircuitBreaker) -> CircuitState:
    """Read the state afresh (keeps mypy from narrowing it across calls)."""
    return breaker.state


def boom() -> None:
    raise StorageUnavailableError("down", status=503)


def trip(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        with pytest.raises(StorageUnavailableError):
            breaker.call(boom)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_seed_defaults() -> None:
    breaker = CircuitBreaker()
    assert (breaker.failure_threshold, breaker.recovery_timeout) == (5, 60.0)
    assert breaker.half_open_max_calls == 1
    assert azure_storage_circuit_breaker.failure_threshold == 5
    assert azure_storage_circuit_breaker.recovery_timeout == 60.0


def test_opens_after_exactly_the_threshold(clock: FakeClock) -> None:
    breaker = CircuitBreaker(failure_threshold=3, clock=clock)
    trip(breaker, 2)
    assert state(breaker) is CircuitState.CLOSED
    trip(breaker, 1)
    assert state(breaker) is CircuitState.OPEN


def test_success_resets_the_consecutive_count(clock: FakeClock) -> None:
    breaker = CircuitBreaker(failure_threshold=3, clock=clock)
    trip(breaker, 2)
    assert breaker.call(lambda: "ok") == "ok"
    trip(breaker, 2)
    assert state(breaker) is CircuitState.CLOSED


def test_open_fails_fast_without_calling(clock: FakeClock) -> None:
    breaker = CircuitBreaker("blobs", failure_threshold=1, recovery_timeout=30, clock=clock)
    trip(breaker, 1)
    calls: list[int] = []
    clock.advance(10)
    with pytest.raises(CircuitOpenError) as info:
        breaker.call(calls.append, 1)
    assert calls == []
    assert isinstance(info.value, StorageError)
    assert info.value.state is CircuitState.OPEN
    assert info.value.retry_in == pytest.approx(20.0)
    assert "blobs" in str(info.value) and "Fix:" in str(info.value)
    assert breaker.stats().rejected_count == 1


def test_half_open_after_timeout_then_success_closes(clock: FakeClock) -> None:
    breaker = CircuitBreaker(failure_threshold=1, recovery_timeout=60, clock=clock)
    trip(breaker, 1)
    clock.advance(59.999)
    assert state(breaker) is CircuitState.OPEN
    clock.advance(0.001)
    assert state(breaker) is CircuitState.HALF_OPEN
    assert breaker.call(lambda: 42) == 42
    assert state(breaker) is CircuitState.CLOSED


def test_half_open_failure_reopens_and_restarts_timer(clock: FakeClock) -> None:
    breaker = CircuitBreaker(failure_threshold=1, recovery_timeout=60, clock=clock)
    trip(breaker, 1)
    clock.advance(60)
    trip(breaker, 1)
    assert state(breaker) is CircuitState.OPEN
    clock.advance(59)
    assert state(breaker) is CircuitState.OPEN
    clock.advance(1)
    assert state(breaker) is CircuitState.HALF_OPEN


def test_half_open_needs_all_permitted_trials_to_close(clock: FakeClock) -> None:
    breaker = CircuitBreaker(
        failure_threshold=1, recovery_timeout=1, half_open_max_calls=3, clock=clock
    )
    trip(breaker, 1)
    clock.advance(1)
    breaker.call(lambda: None)
    breaker.call(lambda: None)
    assert state(breaker) is CircuitState.HALF_OPEN
    breaker.call(lambda: None)
    assert state(breaker) is CircuitState.CLOSED


@pytest.mark.parametrize(
    "error",
    [
        BlobNotFoundError("missing", status=404),
        BlobConflictError("exists", status=409),
        BlobConflictError("precondition", status=412),
        StorageAuthError("denied", status=403),
        InvalidBlobNameError("bad name"),
    ],
    ids=["404", "409", "412", "403", "invalid-name"],
)
def test_callers_mistakes_never_trip(clock: FakeClock, error: StorageError) -> None:
    breaker = CircuitBreaker(failure_threshold=1, clock=clock)

    def mistake() -> None:
        raise error

    for _ in range(10):
        with pytest.raises(type(error)):
            breaker.call(mistake)
    assert state(breaker) is CircuitState.CLOSED
    assert breaker.stats().consecutive_failures == 0


def test_ignored_exception_frees_the_half_open_slot(clock: FakeClock) -> None:
    breaker = CircuitBreaker(failure_threshold=1, recovery_timeout=1, clock=clock)
    trip(breaker, 1)
    clock.advance(1)

    def missing() -> None:
        raise BlobNotFoundError("missing", status=404)

    with pytest.raises(BlobNotFoundError):
        breaker.call(missing)
    assert state(breaker) is CircuitState.HALF_OPEN
    breaker.call(lambda: None)
    assert state(breaker) is CircuitState.CLOSED


def test_failure_rate_window_with_minimum_calls(clock: FakeClock) -> None:
    breaker = CircuitBreaker(
        failure_threshold=100,
        failure_rate_threshold=0.5,
        window_size=10,
        minimum_calls=6,
        clock=clock,
    )
    ok = lambda: None  # noqa: E731
    for _ in range(2):
        breaker.call(ok)
        trip(breaker, 1)
    assert state(breaker) is CircuitState.CLOSED  # 4 calls < minimum_calls
    breaker.call(ok)
    trip(breaker, 1)  # 6 calls, 3 failures = 50 %
    assert state(breaker) is CircuitState.OPEN


def test_window_below_rate_stays_closed(clock: FakeClock) -> None:
    breaker = CircuitBreaker(
        failure_threshold=100,
        failure_rate_threshold=0.5,
        window_size=6,
        minimum_calls=6,
        clock=clock,
    )
    for _ in range(20):
        breaker.call(lambda: None)
        breaker.call(lambda: None)
        trip(breaker, 1)
    assert state(breaker) is CircuitState.CLOSED


def test_listeners_see_every_transition_and_errors_are_contained(clock: FakeClock) -> None:
    seen: list[tuple[str, str]] = []

    def broken(*_: object) -> None:
        raise RuntimeError("listener bug")

    breaker = CircuitBreaker(
        failure_threshold=1,
        recovery_timeout=5,
        clock=clock,
        listeners=[broken, lambda b, old, new: seen.append((old.value, new.value))],
    )
    trip(breaker, 1)
    clock.advance(5)
    breaker.call(lambda: None)
    assert seen == [("closed", "open"), ("open", "half_open"), ("half_open", "closed")]


def test_late_outcome_of_an_older_generation_is_ignored(clock: FakeClock) -> None:
    breaker = CircuitBreaker(failure_threshold=1, recovery_timeout=5, clock=clock)
    started = threading.Event()
    release = threading.Event()

    def slow_failure() -> None:
        started.set()
        release.wait(5)
        raise StorageUnavailableError("late", status=500)

    errors: list[BaseException] = []

    def run() -> None:
        try:
            breaker.call(slow_failure)
        except StorageError as exc:
            errors.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    started.wait(5)
    breaker.force_open()
    clock.advance(5)
    assert state(breaker) is CircuitState.HALF_OPEN
    release.set()
    worker.join(5)
    assert [type(e) for e in errors] == [StorageUnavailableError]
    assert state(breaker) is CircuitState.HALF_OPEN


def test_decorator_sync_and_async(clock: FakeClock) -> None:
    breaker = CircuitBreaker(failure_threshold=1, clock=clock)

    @breaker
    def add(a: int, b: int) -> int:
        return a + b

    @breaker
    async def fail() -> None:
        raise StorageUnavailableError("down", status=503)

    assert add(2, 3) == 5
    assert add.__name__ == "add"
    with pytest.raises(StorageUnavailableError):
        asyncio.run(fail())
    with pytest.raises(CircuitOpenError):
        add(1, 1)


def test_many_threads_in_half_open_only_permitted_trials_pass(clock: FakeClock) -> None:
    permitted = 3
    callers = 40
    breaker = CircuitBreaker(
        failure_threshold=1, recovery_timeout=1, half_open_max_calls=permitted, clock=clock
    )
    trip(breaker, 1)
    clock.advance(1)
    entered = threading.Semaphore(0)
    refused = threading.Semaphore(0)
    release = threading.Event()
    barrier = threading.Barrier(callers)
    passed: list[int] = []
    rejected: list[int] = []
    lock = threading.Lock()

    def trial(i: int) -> None:
        with lock:
            passed.append(i)
        entered.release()
        release.wait(10)

    def caller(i: int) -> None:
        barrier.wait(10)
        try:
            breaker.call(trial, i)
        except CircuitOpenError:
            with lock:
                rejected.append(i)
            refused.release()

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(callers)]
    for t in threads:
        t.start()
    # all trials are running and every other caller has been refused before any trial ends
    for _ in range(permitted):
        assert entered.acquire(timeout=10)
    for _ in range(callers - permitted):
        assert refused.acquire(timeout=10)
    assert state(breaker) is CircuitState.HALF_OPEN
    release.set()
    for t in threads:
        t.join(10)
    assert len(passed) == permitted
    assert len(rejected) == callers - permitted
    assert state(breaker) is CircuitState.CLOSED


def test_many_asyncio_tasks_in_half_open_only_permitted_trials_pass(clock: FakeClock) -> None:
    breaker = CircuitBreaker(
        failure_threshold=1, recovery_timeout=1, half_open_max_calls=2, clock=clock
    )
    trip(breaker, 1)
    clock.advance(1)

    async def scenario() -> tuple[int, int]:
        gate = asyncio.Event()
        passed = 0

        async def trial() -> None:
            nonlocal passed
            passed += 1
            await gate.wait()

        async def caller() -> bool:
            try:
                await breaker.call_async(trial)
            except CircuitOpenError:
                return False
            return True

        tasks = [asyncio.create_task(caller()) for _ in range(25)]
        await asyncio.sleep(0)
        gate.set()
        results = await asyncio.gather(*tasks)
        return passed, sum(results)

    passed, succeeded = asyncio.run(scenario())
    assert (passed, succeeded) == (2, 2)
    assert state(breaker) is CircuitState.CLOSED


def test_reset_closes_and_clears(clock: FakeClock) -> None:
    breaker = CircuitBreaker(failure_threshold=1, clock=clock)
    trip(breaker, 1)
    breaker.reset()
    assert state(breaker) is CircuitState.CLOSED
    assert breaker.stats().consecutive_failures == 0


def test_invalid_configuration_is_rejected() -> None:
    with pytest.raises(ValueError):
        CircuitBreaker(failure_threshold=0)
    with pytest.raises(ValueError):
        CircuitBreaker(failure_rate_threshold=1.5)
