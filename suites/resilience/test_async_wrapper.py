"""The async resilient client (`AsyncResilientStorageClient` around the async clients)
through the real fault proxy: attempts counted as HTTP requests, recovery, non-retryable
read-once sources, and one breaker shared with the sync client.

The async client runs on an event loop thread behind the sync protocol
(`make_faulty_client(api="async")`, `harness.fixtures.async_bridge`); its backoffs are
recorded, not slept, as in the sync tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from crownsafe.errors import (
    BlobNotFoundError,
    NonRetryableUploadError,
    StorageError,
    StorageGaveUpError,
)
from crownsafe.resilience import CircuitBreaker, CircuitOpenError, CircuitState, is_retryable
from harness.faults import Proxy
from harness.fixtures.faults import FaultyClientFactory, RecordedSleeps
from harness.testdata import payload

from .conftest import KIB, MAX_RETRIES

pytestmark = [pytest.mark.resilience, pytest.mark.timeout(60)]

OPERATIONS: dict[str, Callable[[Any, str], object]] = {
    "upload_small": lambda c, name: c.upload_file(name, payload(KIB, 1)),
    "download": lambda c, name: c.download_blob(name),
    "head": lambda c, name: c.head_object(name),
    "list": lambda c, name: c.list_blobs(prefix=name),
}


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_async_persistent_503_makes_exactly_max_retries_plus_one_requests(
    backend_name: str,
    fault_proxy: Proxy,
    make_faulty_client: FaultyClientFactory,
    operation: str,
) -> None:
    """One async logical call under a persistent 503 = exactly max_retries + 1 requests,
    max_retries backoffs, one correlation id; it ends in StorageGaveUpError."""
    sleeps = RecordedSleeps()
    client = make_faulty_client(sleep=sleeps, max_retries=MAX_RETRIES, api="async")
    client.upload_file("blob.bin", payload(KIB, 2))
    fault_proxy.reset_counters()
    fault_proxy.add_http_fault("busy", 503)

    with pytest.raises(StorageGaveUpError) as info:
        OPERATIONS[operation](client, "blob.bin")

    gave_up = info.value
    assert (gave_up.stopped_by, gave_up.attempts) == ("attempts", MAX_RETRIES + 1)
    assert gave_up.status == 503 and is_retryable(gave_up.last_error)
    stats = fault_proxy.stats()
    assert stats.requests_total == MAX_RETRIES + 1, (
        f"[{backend_name}-async] {operation}: proxy saw {stats.requests_by_operation}"
    )
    assert stats.faults_injected == {"busy": MAX_RETRIES + 1}
    assert len(sleeps.delays) == MAX_RETRIES
    cids = {r.correlation_id for r in fault_proxy.requests()}
    assert len(cids) == 1 and None not in cids, f"attempts must share one correlation id: {cids}"


def test_async_transient_503_recovers_on_the_third_request(
    backend_name: str, fault_proxy: Proxy, make_faulty_client: FaultyClientFactory
) -> None:
    """Two 503s, then the service answers: the call succeeds after 3 requests, 2 backoffs."""
    sleeps = RecordedSleeps()
    client = make_faulty_client(sleep=sleeps, api="async")
    client.upload_file("flaky.bin", b"payload")
    client.reset_stats()
    fault_proxy.reset_counters()
    fault_proxy.add_http_fault("busy", 503, first_n=2)
    assert client.download_blob("flaky.bin") == b"payload"
    assert fault_proxy.stats().requests_total == 3
    assert len(sleeps.delays) == 2
    assert client.stats()["download_blob"] == {
        "calls": 1,
        "attempts": 3,
        "succeeded": 1,
        "failed": 0,
        "recovered": 1,
    }


def test_async_not_found_is_one_request(
    backend_name: str, fault_proxy: Proxy, make_faulty_client: FaultyClientFactory
) -> None:
    """A 404 is the caller's answer: one request, no backoff."""
    sleeps = RecordedSleeps()
    client = make_faulty_client(sleep=sleeps, api="async")
    fault_proxy.reset_counters()
    with pytest.raises(BlobNotFoundError):
        client.download_blob("missing.bin")
    assert fault_proxy.stats().requests_total == 1
    assert sleeps.delays == []


def test_async_connection_reset_is_max_retries_plus_one_connections(
    backend_name: str, fault_proxy: Proxy, make_faulty_client: FaultyClientFactory
) -> None:
    """A TCP reset on every attempt: max_retries + 1 connections; aiohttp's own second
    attempt of an idempotent request is off (one retry layer)."""
    client = make_faulty_client(sleep=RecordedSleeps(), api="async")
    fault_proxy.reset_counters()
    fault_proxy.add_toxic("reset", "reset_peer", "upstream", attributes={"timeout": 0})
    with pytest.raises(StorageGaveUpError):
        client.head_object("any.bin")
    stats = fault_proxy.stats()
    assert stats.connections_total == MAX_RETRIES + 1, stats
    assert stats.requests_total == MAX_RETRIES + 1, stats.requests_by_operation


def test_async_iterable_is_not_resent_after_bytes_were_read(
    backend_name: str, fault_proxy: Proxy, make_faulty_client: FaultyClientFactory
) -> None:
    """An async iterable is read once: a 503 after it was read is NonRetryableUploadError
    after one request, never a retry with a partial (or empty) body."""
    sleeps = RecordedSleeps()
    client = make_faulty_client(sleep=sleeps, api="async")
    fault_proxy.reset_counters()
    fault_proxy.add_http_fault("busy", 503)

    async def body() -> AsyncIterator[bytes]:
        for index in range(4):
            yield payload(16 * KIB, index)

    with pytest.raises(NonRetryableUploadError) as info:
        client.upload_file("once.bin", body())
    assert info.value.status == 503
    assert fault_proxy.stats().requests_total == 1
    assert sleeps.delays == []


def test_breaker_is_shared_by_the_async_and_the_sync_client(
    backend_name: str, fault_proxy: Proxy, make_faulty_client: FaultyClientFactory
) -> None:
    """One breaker per backend: failures of the async client open it, and the sync client
    on the same breaker is then refused without a request (and the other way round after
    the breaker closes again)."""
    threshold = 3
    breaker = CircuitBreaker(f"shared-{backend_name}", failure_threshold=threshold)
    async_client = make_faulty_client(breaker=breaker, max_retries=0, api="async")
    sync_client = make_faulty_client(breaker=breaker, max_retries=0)
    async_client.upload_file("shared.bin", b"shared")
    fault_proxy.reset_counters()
    fault_proxy.add_http_fault("outage", 503)
    for _ in range(threshold):
        with pytest.raises(StorageError):
            async_client.blob_exists("shared.bin")
    assert breaker.state is CircuitState.OPEN
    assert fault_proxy.stats().requests_total == threshold
    with pytest.raises(CircuitOpenError) as refused:
        sync_client.download_blob("shared.bin")
    assert refused.value.operation == "download_blob"
    with pytest.raises(CircuitOpenError):
        async_client.download_blob("shared.bin")
    assert fault_proxy.stats().requests_total == threshold, "a refused call reached the proxy"

    breaker.reset()
    fault_proxy.remove_http_fault("outage")
    fault_proxy.add_http_fault("outage-again", 503)
    for _ in range(threshold):
        with pytest.raises(StorageError):
            sync_client.blob_exists("shared.bin")
    assert breaker.state is CircuitState.OPEN
    with pytest.raises(CircuitOpenError):
        async_client.head_object("shared.bin")
    assert fault_proxy.stats().requests_total == 2 * threshold
