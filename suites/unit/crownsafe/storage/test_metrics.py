"""The storage metrics, recorded by `ResilientStorageClient` and the breaker listener,
read back from a fresh registry; the fake backend moves a fake clock, so durations are exact."""

from __future__ import annotations

import io
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from crownsafe.config import Settings
from crownsafe.errors import BlobNotFoundError, StorageGaveUpError, StorageUnavailableError
from crownsafe.resilience import CircuitBreaker, CircuitOpenError, CircuitState
from crownsafe.storage.metrics import StorageMetrics, error_label
from crownsafe.storage.resilient import ResilientStorageClient

from .test_resilient import FakeStorage, OneWay, flaky


class Clock:
    """Seconds that move only when the fake backend works or the retry loop sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class TimedFake(FakeStorage):
    """FakeStorage whose every call takes `cost` seconds on `clock`."""

    def __init__(self, clock: Clock, cost: float) -> None:
        super().__init__()
        self.clock, self.cost = clock, cost

    def _enter(self, op: str) -> None:
        self.clock.now += self.cost
        super()._enter(op)

    def upload_file(self, blob_name: str, data: Any, *args: Any, **kwargs: Any) -> str:
        self.clock.now += self.cost
        return super().upload_file(blob_name, data, *args, **kwargs)


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def metrics(registry: CollectorRegistry) -> StorageMetrics:
    return StorageMetrics(registry)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_client(
    fake: FakeStorage, metrics: StorageMetrics, clock: Clock, **breaker: Any
) -> ResilientStorageClient:
    options: dict[str, Any] = {"failure_threshold": 50, **breaker}
    return ResilientStorageClient(
        fake,
        breaker=CircuitBreaker("fake-storage", clock=clock, **options),
        max_retries=2,
        jitter="none",
        sleep=clock.sleep,
        clock=clock,
        metrics=metrics,
    )


def value(registry: CollectorRegistry, name: str, **labels: str) -> float:
    found = registry.get_sample_value(name, labels)
    return 0.0 if found is None else found


def test_a_successful_upload_and_download_count_calls_bytes_and_time(
    registry: CollectorRegistry, metrics: StorageMetrics, clock: Clock
) -> None:
    client = make_client(TimedFake(clock, cost=0.25), metrics, clock)
    client.upload_file("a", b"12345")
    assert client.download_blob("a") == b"12345"
    ops = "crownsafe_storage_operations_total"
    for operation in ("upload_file", "download_blob"):
        assert value(registry, ops, backend="fake", operation=operation, outcome="success") == 1
        assert value(registry, ops, backend="fake", operation=operation, outcome="error") == 0
        duration = {"backend": "fake", "operation": operation}
        assert value(registry, "crownsafe_storage_operation_duration_seconds_sum", **duration) == (
            0.25
        )
        assert value(registry, "crownsafe_storage_retries_total", **duration) == 0
    up = value(registry, "crownsafe_storage_bytes_total", backend="fake", direction="upload")
    down = value(registry, "crownsafe_storage_bytes_total", backend="fake", direction="download")
    assert (up, down) == (5, 5)


def test_retries_and_backoff_are_counted_in_the_one_call(
    registry: CollectorRegistry, metrics: StorageMetrics, clock: Clock
) -> None:
    fake = TimedFake(clock, cost=0.5)
    client = make_client(fake, metrics, clock)
    fake.blobs["a"] = b"x"
    fake.fail["download_blob"] = [flaky(), flaky()]
    client.download_blob("a")
    labels = {"backend": "fake", "operation": "download_blob"}
    assert value(registry, "crownsafe_storage_retries_total", **labels) == 2
    assert value(registry, "crownsafe_storage_operations_total", **labels, outcome="success") == 1
    # three attempts of 0.5 s and backoffs of 1 s and 2 s
    assert value(registry, "crownsafe_storage_operation_duration_seconds_sum", **labels) == 4.5
    assert value(registry, "crownsafe_storage_operation_duration_seconds_count", **labels) == 1


def test_failures_are_counted_by_their_typed_error(
    registry: CollectorRegistry, metrics: StorageMetrics, clock: Clock
) -> None:
    fake = TimedFake(clock, cost=0.0)
    client = make_client(fake, metrics, clock)
    with pytest.raises(BlobNotFoundError):
        client.download_blob("missing")
    fake.fail["upload_file"] = [flaky() for _ in range(3)]
    with pytest.raises(StorageGaveUpError):
        client.upload_file("b", b"abc")
    errors = "crownsafe_storage_errors_total"
    assert value(
        registry, errors, backend="fake", operation="download_blob", error="BlobNotFoundError"
    ) == (1)
    assert value(
        registry, errors, backend="fake", operation="upload_file", error="StorageGaveUpError"
    ) == (1)
    up = {"backend": "fake", "operation": "upload_file"}
    assert value(registry, "crownsafe_storage_operations_total", **up, outcome="error") == 1
    assert value(registry, "crownsafe_storage_retries_total", **up) == 2
    assert value(registry, "crownsafe_storage_bytes_total", backend="fake", direction="upload") == 0


def test_breaker_state_gauge_and_transitions_follow_the_breaker(
    registry: CollectorRegistry, metrics: StorageMetrics, clock: Clock
) -> None:
    fake = TimedFake(clock, cost=0.0)
    client = make_client(fake, metrics, clock, failure_threshold=2, recovery_timeout=30)
    breaker = {"backend": "fake", "breaker": "fake-storage"}
    state = "crownsafe_storage_circuit_breaker_state"
    assert registry.get_sample_value(state, breaker) == 0  # exported before any transition
    fake.blobs["a"] = b"x"
    fake.fail["download_blob"] = [flaky(), flaky()]
    with pytest.raises(StorageUnavailableError):
        client.download_blob("a")
    assert client.breaker.state is CircuitState.OPEN
    assert value(registry, state, **breaker) == 2
    with pytest.raises(CircuitOpenError):
        client.download_blob("a")
    refused = {"backend": "fake", "operation": "download_blob", "error": "CircuitOpenError"}
    assert value(registry, "crownsafe_storage_errors_total", **refused) == 1
    clock.now += 30
    assert client.download_blob("a") == b"x"  # the trial call: half-open, then closed
    assert value(registry, state, **breaker) == 0
    moves = "crownsafe_storage_circuit_breaker_transitions_total"
    for old, new in (("closed", "open"), ("open", "half_open"), ("half_open", "closed")):
        assert value(registry, moves, **breaker, from_state=old, to_state=new) == 1, (old, new)


def test_a_breaker_shared_by_two_clients_is_watched_once(
    registry: CollectorRegistry, metrics: StorageMetrics, clock: Clock
) -> None:
    shared = CircuitBreaker("shared", clock=clock)
    for _ in range(2):
        ResilientStorageClient(FakeStorage(), breaker=shared, metrics=metrics)
    shared.force_open()
    moves = "crownsafe_storage_circuit_breaker_transitions_total"
    labels = {"backend": "fake", "breaker": "shared", "from_state": "closed", "to_state": "open"}
    assert value(registry, moves, **labels) == 1


def test_label_children_are_resolved_once_per_backend_and_operation(
    metrics: StorageMetrics,
) -> None:
    fake = metrics.for_client("fake")
    assert metrics.for_client("fake") is fake
    assert fake.operation("upload_file") is fake.operation("upload_file")
    assert metrics.for_client("other") is not fake


def test_stream_uploads_and_chunked_downloads_count_their_bytes(
    registry: CollectorRegistry, metrics: StorageMetrics, clock: Clock
) -> None:
    fake = TimedFake(clock, cost=0.0)
    client = make_client(fake, metrics, clock)
    seekable = io.BytesIO(b"xx" + b"abcdef")
    seekable.seek(2)
    client.upload_file("s", seekable)
    client.upload_file("o", OneWay(b"1234"))
    assert value(registry, "crownsafe_storage_bytes_total", backend="fake", direction="upload") == (
        10
    )
    assert b"".join(client.iter_blob_chunks("s", 4)) == b"abcdef"
    down = value(registry, "crownsafe_storage_bytes_total", backend="fake", direction="download")
    assert down == 6


def test_the_quota_is_exported_from_the_settings_only_when_set(
    registry: CollectorRegistry, metrics: StorageMetrics
) -> None:
    quota = "crownsafe_storage_quota_bytes"
    ResilientStorageClient.from_settings(
        FakeStorage(), Settings(storage_quota_bytes=0), metrics=metrics
    )
    assert registry.get_sample_value(quota, {"backend": "fake"}) is None
    ResilientStorageClient.from_settings(
        FakeStorage(), Settings(storage_quota_bytes=10**12), metrics=metrics
    )
    assert registry.get_sample_value(quota, {"backend": "fake"}) == 10**12


def test_the_error_label_is_bounded_to_the_typed_errors() -> None:
    assert error_label(StorageGaveUpError(
        "x", last_error=flaky(), attempts=1, max_attempts=1, stopped_by="attempts",
        deadline=None, elapsed=0.0,
    )) == "StorageGaveUpError"  # fmt: skip
    assert error_label(KeyError("a bug")) == "unexpected"


def _samples(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in registry.collect()
        for s in family.samples
        if not s.name.endswith("_created")
    }


@pytest.mark.parametrize("amount", [0.0, 0.005, 0.0051, 0.3, 60.0, 61.0, float("nan")])
def test_the_fast_increments_export_what_the_public_methods_export(amount: float) -> None:
    """fast_observe / fast_inc go to prometheus-client's value objects directly (issue 19):
    the same buckets (an amount on an edge belongs to that edge's bucket), sum and count."""
    from prometheus_client import Counter, Histogram

    from crownsafe.storage.metrics import DURATION_BUCKETS, fast_inc, fast_observe

    exported = []
    for fast in (False, True):
        registry = CollectorRegistry()
        histogram = Histogram("h", "h", ["op"], buckets=DURATION_BUCKETS, registry=registry)
        counter = Counter("c", "c", ["op"], registry=registry)
        child, tally = histogram.labels("x"), counter.labels("x")
        observe = fast_observe(child) if fast else child.observe
        inc = fast_inc(tally) if fast else tally.inc
        observe(amount)
        observe(0.02)
        inc(3)
        exported.append(_samples(registry))
    slow, quick = exported
    assert slow.keys() == quick.keys()
    for key, value in slow.items():
        assert value == quick[key] or (value != value and quick[key] != quick[key]), key


def test_without_the_value_objects_the_fast_increments_fall_back_to_the_public_methods() -> None:
    from crownsafe.storage.metrics import fast_inc, fast_observe

    class Plain:
        def __init__(self) -> None:
            self.seen: list[float] = []

        def inc(self, amount: float = 1) -> None:
            self.seen.append(amount)

        def observe(self, amount: float) -> None:
            self.seen.append(-amount)

    plain = Plain()
    fast_inc(plain)(2)  # type: ignore[arg-type]
    fast_observe(plain)(5)  # type: ignore[arg-type]
    assert plain.seen == [2, -5]
