"""The circuit breaker in front of a real emulator, driven through the fault proxy."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from crownsafe.errors import BlobConflictError, BlobNotFoundError, StorageError
from crownsafe.resilience import CircuitBreaker, CircuitOpenError, CircuitState
from harness.faults import Proxy
from harness.faults.summary import ResilienceSummary
from harness.fixtures.faults import FaultyClientFactory, RecordedSleeps

from .conftest import FakeClock, wait_until

pytestmark = [pytest.mark.resilience, pytest.mark.timeout(60)]

THRESHOLD = 3
RECOVERY = 30.0


def state(breaker: CircuitBreaker) -> CircuitState:
    """The breaker's state, read afresh (keeps mypy from narrowing across calls)."""
    return breaker.state


def _client(
    make_faulty_client: FaultyClientFactory, clock: FakeClock, half_open_max_calls: int = 1
) -> tuple[Any, CircuitBreaker]:
    breaker = CircuitBreaker(
        "suite",
        failure_threshold=THRESHOLD,
        recovery_timeout=RECOVERY,
        half_open_max_calls=half_open_max_calls,
        clock=clock,
    )
    client = make_faulty_client(breaker=breaker, max_retries=0, sleep=RecordedSleeps())
    return client, breaker


def _trip(client: Any, proxy: Proxy) -> None:
    proxy.add_http_fault("outage", 503)
    for _ in range(THRESHOLD):
        with pytest.raises(StorageError):
            client.blob_exists("probe.bin")


def test_opens_after_exactly_the_threshold(
    backend_name: str,
    fault_proxy: Proxy,
    make_faulty_client: FaultyClientFactory,
    clock: FakeClock,
) -> None:
    """THRESHOLD - 1 failures leave it closed; the THRESHOLD-th opens it."""
    client, breaker = _client(make_faulty_client, clock)
    fault_proxy.add_http_fault("outage", 503)
    for _ in range(THRESHOLD - 1):
        with pytest.raises(StorageError):
            client.blob_exists("probe.bin")
    assert state(breaker) is CircuitState.CLOSED
    with pytest.raises(StorageError):
        client.blob_exists("probe.bin")
    assert state(breaker) is CircuitState.OPEN
    assert fault_proxy.stats().requests_total == THRESHOLD


def test_open_breaker_fails_fast_with_no_new_connection(
    backend_name: str,
    fault_proxy: Proxy,
    make_faulty_client: FaultyClientFactory,
    clock: FakeClock,
    resilience_summary: ResilienceSummary,
) -> None:
    """While open, calls raise CircuitOpenError at once and never reach the proxy."""
    client, breaker = _client(make_faulty_client, clock)
    _trip(client, fault_proxy)
    assert state(breaker) is CircuitState.OPEN
    before = fault_proxy.stats()
    timings = []
    for _ in range(25):
        started = time.perf_counter()
        with pytest.raises(CircuitOpenError) as info:
            client.download_blob("probe.bin")
        timings.append(time.perf_counter() - started)
    after = fault_proxy.stats()
    assert after.connections_total == before.connections_total
    assert after.requests_total == before.requests_total
    assert info.value.retry_in == pytest.approx(RECOVERY)
    median_ms = statistics.median(timings) * 1000
    resilience_summary.check(
        "open breaker fails fast",
        backend_name,
        median_ms < 5.0,
        f"median {median_ms:.3f} ms, max {max(timings) * 1000:.3f} ms over 25 calls; "
        f"0 new connections",
    )
    assert median_ms < 5.0, f"[{backend_name}] open breaker took {median_ms:.3f} ms (median)"


def test_half_open_after_timeout_then_success_closes(
    backend_name: str,
    fault_proxy: Proxy,
    make_faulty_client: FaultyClientFactory,
    clock: FakeClock,
) -> None:
    client, breaker = _client(make_faulty_client, clock)
    _trip(client, fault_proxy)
    clock.advance(RECOVERY - 0.5)
    assert state(breaker) is CircuitState.OPEN
    clock.advance(0.5)
    assert state(breaker) is CircuitState.HALF_OPEN
    fault_proxy.remove_http_fault("outage")
    before = fault_proxy.stats().requests_total
    assert client.blob_exists("probe.bin") is False
    assert state(breaker) is CircuitState.CLOSED
    assert fault_proxy.stats().requests_total - before == 1


def test_half_open_failure_reopens_and_restarts_the_timer(
    backend_name: str,
    fault_proxy: Proxy,
    make_faulty_client: FaultyClientFactory,
    clock: FakeClock,
) -> None:
    client, breaker = _client(make_faulty_client, clock)
    _trip(client, fault_proxy)
    clock.advance(RECOVERY)
    with pytest.raises(StorageError):
        client.blob_exists("probe.bin")  # the trial call meets the outage
    assert state(breaker) is CircuitState.OPEN
    clock.advance(RECOVERY - 1)
    assert state(breaker) is CircuitState.OPEN
    clock.advance(1)
    assert state(breaker) is CircuitState.HALF_OPEN


def test_concurrent_callers_in_half_open_only_the_trials_pass(
    backend_name: str,
    fault_proxy: Proxy,
    make_faulty_client: FaultyClientFactory,
    make_storage_client: Callable[..., Any],
    clock: FakeClock,
) -> None:
    """16 callers at once in HALF_OPEN: exactly `half_open_max_calls` reach the service."""
    permitted, callers = 2, 16
    client, breaker = _client(make_faulty_client, clock, half_open_max_calls=permitted)
    client.upload_file("probe.bin", b"1")
    _trip(client, fault_proxy)
    clock.advance(RECOVERY)
    fault_proxy.remove_http_fault("outage")
    fault_proxy.add_toxic("hold", "timeout", "upstream", attributes={"timeout": 0})
    before = fault_proxy.stats().requests_total
    results: list[object] = []
    lock = threading.Lock()
    barrier = threading.Barrier(callers)

    def call() -> None:
        barrier.wait(10)
        try:
            outcome: object = client.blob_exists("probe.bin")
        except CircuitOpenError as exc:
            outcome = exc
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=call) for _ in range(callers)]
    for t in threads:
        t.start()
    wait_until(
        lambda: sum(isinstance(r, CircuitOpenError) for r in results) == callers - permitted,
        what="every caller but the trials to be refused",
    )
    wait_until(
        lambda: fault_proxy.stats().requests_total - before == permitted,
        what="the trial requests to reach the proxy",
    )
    fault_proxy.remove_toxic("hold")
    for t in threads:
        t.join(10)
    assert results.count(True) == permitted
    assert fault_proxy.stats().requests_total - before == permitted
    assert state(breaker) is CircuitState.CLOSED


def test_callers_mistakes_never_trip_it(
    backend_name: str,
    fault_proxy: Proxy,
    make_faulty_client: FaultyClientFactory,
    clock: FakeClock,
) -> None:
    """404s and conflicts are answers, not outages: the breaker stays closed."""
    client, breaker = _client(make_faulty_client, clock)
    client.upload_file("taken.bin", b"x")
    fault_proxy.reset_counters()
    for _ in range(THRESHOLD * 2):
        with pytest.raises(BlobNotFoundError):
            client.head_object("missing.bin")
        with pytest.raises(BlobConflictError):
            client.upload_file("taken.bin", b"y", overwrite=False)
    assert state(breaker) is CircuitState.CLOSED
    assert breaker.stats().consecutive_failures == 0
    assert fault_proxy.stats().requests_total == THRESHOLD * 4
