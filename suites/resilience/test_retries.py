"""Retries through the real proxy: attempt counts, no SDK retries on top, Retry-After, jitter."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crownsafe.errors import (
    BlobConflictError,
    BlobNotFoundError,
    StorageError,
    StorageGaveUpError,
    StorageUnavailableError,
)
from crownsafe.resilience import Backoff, CircuitBreaker, CircuitState, is_retryable
from crownsafe.storage.resilient import ResilientStorageClient
from harness.faults import Proxy
from harness.faults.summary import ResilienceSummary
from harness.fixtures.faults import FaultyClientFactory, RecordedSleeps
from harness.testdata import payload

from .conftest import KIB, MAX_RETRIES

pytestmark = [pytest.mark.resilience, pytest.mark.timeout(60)]

Operation = Callable[[Any, str], object]
OPERATIONS: dict[str, Operation] = {
    "upload_small": lambda c, name: c.upload_file(name, payload(KIB, 1)),
    "download": lambda c, name: c.download_blob(name),
    "head": lambda c, name: c.head_object(name),
    "exists": lambda c, name: c.blob_exists(name),
    "list": lambda c, name: c.list_blobs(prefix=name),
    "delete": lambda c, name: c.delete_blob(name),
}


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_persistent_503_makes_exactly_max_retries_plus_one_requests(
    backend_name: str,
    fault_proxy: Proxy,
    make_faulty_client: FaultyClientFactory,
    resilience_summary: ResilienceSummary,
    operation: str,
) -> None:
    """One logical call under a persistent 503 = exactly max_retries + 1 HTTP requests."""
    sleeps = RecordedSleeps()
    client = make_faulty_client(sleep=sleeps, max_retries=MAX_RETRIES)
    client.upload_file("blob.bin", payload(KIB, 2))
    client.reset_stats()
    fault_proxy.reset_counters()
    fault_proxy.add_http_fault("busy", 503)

    with pytest.raises(StorageError) as info:
        OPERATIONS[operation](client, "blob.bin")

    stats = fault_proxy.stats()
    records = fault_proxy.requests()
    # Azure names the 503 ServerBusy (throttled); S3 HEAD responses carry no error body, so
    # a 503 there is only "unavailable". Both are transient and retried; the error that
    # ends the call says the attempts ran out and what the last one met.
    gave_up = info.value
    assert isinstance(gave_up, StorageGaveUpError), f"[{backend_name}] {gave_up!r}"
    assert (gave_up.stopped_by, gave_up.attempts) == ("attempts", MAX_RETRIES + 1)
    assert f"gave up after {MAX_RETRIES + 1} of {MAX_RETRIES + 1} attempts" in str(gave_up)
    assert gave_up.status == 503 and is_retryable(gave_up.last_error)
    assert type(gave_up.last_error).__name__ in str(gave_up)
    assert stats.requests_total == MAX_RETRIES + 1, (
        f"[{backend_name}] {operation}: proxy saw {stats.requests_by_operation}"
    )
    assert stats.faults_injected == {"busy": MAX_RETRIES + 1}
    assert len(sleeps.delays) == MAX_RETRIES
    cids = {r.correlation_id for r in records}
    assert len(cids) == 1 and None not in cids, f"attempts must share one correlation id: {cids}"
    resilience_summary.record(
        fault="http_503_persistent",
        operation=operation,
        backend=backend_name,
        attempts=client.stats()[_stat_name(operation)]["attempts"],
        succeeded=False,
        requests=stats.requests_total,
        error=type(info.value).__name__,
    )


def _stat_name(operation: str) -> str:
    return {
        "upload_small": "upload_file",
        "download": "download_blob",
        "head": "head_object",
        "exists": "blob_exists",
        "list": "list_blobs",
        "delete": "delete_blob",
    }[operation]


@pytest.mark.parametrize("operation", ["download", "head", "delete"])
def test_not_found_is_one_request(
    backend_name: str,
    fault_proxy: Proxy,
    make_faulty_client: FaultyClientFactory,
    operation: str,
) -> None:
    """A 404 is the caller's answer: never retried."""
    sleeps = RecordedSleeps()
    client = make_faulty_client(sleep=sleeps)
    with pytest.raises(BlobNotFoundError) as info:
        OPERATIONS[operation](client, "missing.bin")
    assert info.value.status == 404
    assert fault_proxy.stats().requests_total == 1
    assert sleeps.delays == []


def test_conflict_is_one_request(
    backend_name: str,
    fault_proxy: Proxy,
    make_faulty_client: FaultyClientFactory,
) -> None:
    """A 409 (Azure BlobAlreadyExists) / 412 (S3 If-None-Match) is never retried."""
    sleeps = RecordedSleeps()
    client = make_faulty_client(sleep=sleeps)
    client.upload_file("taken.bin", b"first")
    before = fault_proxy.stats().requests_total
    with pytest.raises(BlobConflictError) as info:
        client.upload_file("taken.bin", b"second", overwrite=False)
    assert info.value.status in (409, 412)
    assert fault_proxy.stats().requests_total - before == 1
    assert sleeps.delays == []


def test_connection_reset_is_max_retries_plus_one_requests(
    backend_name: str,
    fault_proxy: Proxy,
    make_faulty_client: FaultyClientFactory,
) -> None:
    """A TCP reset on every attempt: max_retries + 1 requests, no SDK retry on top."""
    client = make_faulty_client(sleep=RecordedSleeps())
    fault_proxy.add_toxic("reset", "reset_peer", "upstream", attributes={"timeout": 0})
    with pytest.raises(StorageUnavailableError):
        client.head_object("any.bin")
    stats = fault_proxy.stats()
    assert stats.requests_total == MAX_RETRIES + 1, stats.requests_by_operation
    assert stats.connections_total == MAX_RETRIES + 1


@pytest.mark.parametrize(
    ("header", "value", "max_delay", "expected"),
    [
        ("retry_after", 3, 10.0, 3.0),
        ("retry_after", 120, 2.0, 2.0),
        ("retry_after_ms", 1500, 10.0, 1.5),
    ],
    ids=["retry-after-honoured", "retry-after-capped", "x-ms-retry-after-ms"],
)
def test_retry_after_is_honoured_and_capped(
    backend_name: str,
    fault_proxy: Proxy,
    make_faulty_client: FaultyClientFactory,
    header: str,
    value: int,
    max_delay: float,
    expected: float,
) -> None:
    """The throttled response's Retry-After (or x-ms-retry-after-ms) sets the wait, capped."""
    if header == "retry_after_ms" and backend_name == "s3":
        value, header = 1, "retry_after"  # S3 has no x-ms-retry-after-ms; plain Retry-After
        expected = 1.0
    sleeps = RecordedSleeps()
    client = make_faulty_client(sleep=sleeps, base_delay=0.01, max_delay=max_delay)
    client.upload_file("throttled.bin", b"payload")
    fault_proxy.reset_counters()
    fault_proxy.add_http_fault("slow-down", 503, first_n=2, **{header: value})
    assert client.download_blob("throttled.bin") == b"payload"
    assert sleeps.delays == [expected, expected]
    assert fault_proxy.stats().requests_total == 3


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(failures=st.integers(min_value=1, max_value=MAX_RETRIES), seed=st.integers(0, 2**31))
def test_delay_schedule_stays_in_its_jitter_envelope(
    backend_name: str,
    fault_proxy: Proxy,
    make_faulty_client: FaultyClientFactory,
    failures: int,
    seed: int,
) -> None:
    """Through the proxy, each recorded delay lies in ((1-j) * ceiling(n), ceiling(n)]."""
    sleeps = RecordedSleeps()
    client = ResilientStorageClient(
        make_faulty_client(resilient=False),
        breaker=CircuitBreaker("jitter", failure_threshold=100),
        max_retries=MAX_RETRIES,
        base_delay=0.5,
        max_delay=3.0,
        jitter=0.5,
        sleep=sleeps,
        rng=random.Random(seed),
    )
    name = f"busy-{seed}-{failures}"
    fault_proxy.reset_counters()
    fault_proxy.add_http_fault(name, 500, first_n=failures)
    try:
        assert client.blob_exists("nothing-here.bin") is False
    finally:
        fault_proxy.remove_http_fault(name)
    assert fault_proxy.stats().requests_total == failures + 1
    assert len(sleeps.delays) == failures
    backoff = Backoff(0.5, 3.0, 0.5)
    for n, delay in enumerate(sleeps.delays, start=1):
        low, high = backoff.envelope(n)
        assert low <= delay <= high, f"retry {n}: {delay} not in [{low}, {high}]"


def test_the_call_that_opens_the_breaker_does_not_sleep(
    backend_name: str, fault_proxy: Proxy, make_faulty_client: FaultyClientFactory
) -> None:
    """Always 503, a breaker of 6 failures, 3 retries: the first call makes 4 requests and
    gives up on its attempts; the second call's 2nd attempt opens the breaker, so it stops
    there without another backoff and raises that 503, not CircuitOpenError."""
    sleeps = RecordedSleeps()
    breaker = CircuitBreaker(f"opening-{backend_name}", failure_threshold=MAX_RETRIES + 3)
    client = make_faulty_client(sleep=sleeps, breaker=breaker, max_retries=MAX_RETRIES)
    fault_proxy.add_http_fault("busy", 503)
    with pytest.raises(StorageGaveUpError):
        client.head_object("any.bin")
    assert len(sleeps.delays) == MAX_RETRIES
    with pytest.raises(StorageError) as opened:
        client.head_object("any.bin")
    assert breaker.state is CircuitState.OPEN
    assert len(sleeps.delays) == MAX_RETRIES + 1, f"slept after the breaker opened: {sleeps}"
    assert fault_proxy.stats().requests_total == MAX_RETRIES + 3
    assert type(opened.value).__name__ != "CircuitOpenError" and opened.value.status == 503
    assert not isinstance(opened.value, StorageGaveUpError)
