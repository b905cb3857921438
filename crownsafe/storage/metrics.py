"""Prometheus metrics of the storage layer: what every storage call did, and the breakers.

Recorded in the one place every call passes once, `ResilientStorageClient._run` (outcome,
duration, retries, the typed error of a failure, bytes moved), and by a state listener on
each circuit breaker (its state and transitions): never in the two SDK clients. The names,
labels and meanings are listed in docs/metrics.md.

Cheap per call: a client resolves its label children once (`ClientMetrics.operation`
caches them per operation name), so a call costs a dict lookup, a counter increment and a
histogram observation, and those two go straight to the children's value objects
(`fast_inc`, `fast_observe`: the public `inc`/`observe` first check that the metric is a
labelled child, walk the buckets in Python and look for exemplars: the largest part of
the wrapper's per-call cost before issue 19). When an installed prometheus-client lacks
those internals they fall back to the public methods; under multiprocess mode the value
objects are the shared-file ones, so the fast path writes there too.

Process-wide like the breakers: `storage_metrics()` is this process's instance on its own
registry (`crownsafe.api.metrics.ApiMetrics` serves it on `/metrics`); tests build a
`StorageMetrics` on a fresh `CollectorRegistry`. Under prometheus-client's multiprocess
mode (PROMETHEUS_MULTIPROC_DIR set before the import) every value is written to the shared
directory whatever the registry, and the gauges merge by their maximum (any process whose
breaker is open shows the breaker open).
"""

from __future__ import annotations

import threading
import weakref
from bisect import bisect_left
from collections.abc import Callable
from typing import Any, NamedTuple

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from crownsafe.errors import StorageError
from crownsafe.resilience import CircuitBreaker, CircuitState

__all__ = [
    "BREAKER_STATE_VALUES",
    "DURATION_BUCKETS",
    "ClientMetrics",
    "OperationMetrics",
    "StorageMetrics",
    "error_label",
    "fast_inc",
    "fast_observe",
    "storage_metrics",
]

DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
"""Seconds; 5 s (the upload-time alert's threshold) is a bucket edge."""

BREAKER_STATE_VALUES: dict[CircuitState, int] = {
    CircuitState.CLOSED: 0,
    CircuitState.HALF_OPEN: 1,
    CircuitState.OPEN: 2,
}


def error_label(exc: BaseException) -> str:
    """The `error` label of a failure: the class name for crownsafe's typed errors (a
    closed set, `crownsafe.errors` and `CircuitOpenError`), `unexpected` for anything else
    (a bug: the clients raise only typed errors), so the label's values stay bounded."""
    return type(exc).__name__ if isinstance(exc, StorageError) else "unexpected"


def fast_inc(child: Counter) -> Callable[[float], None]:
    """`child.inc` without its per-call checks: the bound `inc` of the child's value
    object (a labelled child is always observable; amounts here are never negative)."""
    inc = getattr(getattr(child, "_value", None), "inc", None)
    return inc if callable(inc) else child.inc


def fast_observe(child: Histogram) -> Callable[[float], None]:
    """`child.observe` with the bucket found by bisection on the value objects (the same
    bucket: the first upper bound >= the amount; a NaN lands in none, as upstream)."""
    total: Any = getattr(child, "_sum", None)
    buckets: Any = getattr(child, "_buckets", None)
    bounds: Any = getattr(child, "_upper_bounds", None)
    if not (
        callable(getattr(total, "inc", None))
        and isinstance(buckets, list)
        and isinstance(bounds, list | tuple)
        and len(buckets) == len(bounds)
        and all(callable(getattr(b, "inc", None)) for b in buckets)
    ):
        return child.observe
    add = total.inc
    incs = [bucket.inc for bucket in buckets]
    edges = [float(b) for b in bounds]
    last = len(edges)

    def observe(amount: float) -> None:
        add(amount)
        index = bisect_left(edges, amount)
        if index < last and amount <= edges[index]:  # False for a NaN, as upstream
            incs[index](1)

    return observe


class OperationMetrics(NamedTuple):
    """The label children of one (backend, operation), resolved once, and the fast
    increments of the two every successful call makes."""

    succeeded: Counter
    failed: Counter
    duration: Histogram
    retries: Counter
    count_success: Callable[[float], None]
    observe_duration: Callable[[float], None]


class StorageMetrics:
    """The storage metric families on one registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.operations = Counter(
            "crownsafe_storage_operations",
            "Logical storage calls (all attempts of one call together) by backend, "
            "operation and outcome (success or error)",
            ["backend", "operation", "outcome"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "crownsafe_storage_operation_duration_seconds",
            "Time of one logical storage call, its retries and backoff included",
            ["backend", "operation"],
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.bytes = Counter(
            "crownsafe_storage_bytes",
            "Bytes moved by successful storage calls, by backend and direction "
            "(upload or download)",
            ["backend", "direction"],
            registry=self.registry,
        )
        self.errors = Counter(
            "crownsafe_storage_errors",
            "Storage calls that failed, by backend, operation and typed error class "
            "(crownsafe.errors; 'unexpected' for anything else)",
            ["backend", "operation", "error"],
            registry=self.registry,
        )
        self.retries = Counter(
            "crownsafe_storage_retries",
            "Retried attempts (attempts after the first) of storage calls",
            ["backend", "operation"],
            registry=self.registry,
        )
        self.breaker_state = Gauge(
            "crownsafe_storage_circuit_breaker_state",
            "State of each storage circuit breaker: 0 closed, 1 half-open, 2 open",
            ["backend", "breaker"],
            registry=self.registry,
            multiprocess_mode="max",
        )
        self.breaker_transitions = Counter(
            "crownsafe_storage_circuit_breaker_transitions",
            "State changes of each storage circuit breaker (from_state, to_state: closed, "
            "half_open, open)",
            ["backend", "breaker", "from_state", "to_state"],
            registry=self.registry,
        )
        self.quota = Gauge(
            "crownsafe_storage_quota_bytes",
            "The configured storage quota (STORAGE_QUOTA_BYTES); absent when none is set",
            ["backend"],
            registry=self.registry,
            multiprocess_mode="max",
        )
        self.used = Gauge(
            "crownsafe_storage_used_bytes",
            "Total size of the configured container's blobs, measured by the worker's "
            "periodic task (STORAGE_USAGE_INTERVAL_SECONDS)",
            ["backend"],
            registry=self.registry,
            multiprocess_mode="mostrecent",
        )
        self._lock = threading.Lock()
        self._clients: dict[str, ClientMetrics] = {}
        self._watched: weakref.WeakSet[CircuitBreaker] = weakref.WeakSet()

    def for_client(self, backend: str) -> ClientMetrics:
        """The cached label children of `backend` (one object per backend)."""
        with self._lock:
            found = self._clients.get(backend)
            if found is None:
                found = self._clients[backend] = ClientMetrics(self, backend)
            return found

    def watch_breaker(self, breaker: CircuitBreaker, backend: str) -> None:
        """Export `breaker`'s state and count its transitions (once per breaker; the
        process-wide breakers are watched by every client built on them)."""
        with self._lock:
            if breaker in self._watched:
                return
            self._watched.add(breaker)
        state = self.breaker_state.labels(backend, breaker.name)
        state.set(BREAKER_STATE_VALUES[breaker.stats().state])
        transitions = self.breaker_transitions

        def on_change(cb: CircuitBreaker, old: CircuitState, new: CircuitState) -> None:
            state.set(BREAKER_STATE_VALUES[new])
            transitions.labels(backend, cb.name, old.value, new.value).inc()

        breaker.add_listener(on_change)

    def set_quota(self, backend: str, quota_bytes: int) -> None:
        """Export STORAGE_QUOTA_BYTES (0: no quota, nothing exported)."""
        if quota_bytes > 0:
            self.quota.labels(backend).set(quota_bytes)

    def set_used(self, backend: str, used_bytes: int) -> None:
        """Export one measurement of the container's size (`crownsafe.storage.usage`)."""
        self.used.labels(backend).set(used_bytes)


class ClientMetrics:
    """One backend's children; `record` is the per-call hot path."""

    def __init__(self, metrics: StorageMetrics, backend: str) -> None:
        self._metrics = metrics
        self.backend = backend
        self._ops: dict[str, OperationMetrics] = {}
        self._errors: dict[tuple[str, str], Counter] = {}
        self.uploaded = metrics.bytes.labels(backend, "upload")
        self.downloaded = metrics.bytes.labels(backend, "download")
        self.count_uploaded = fast_inc(self.uploaded)
        self.count_downloaded = fast_inc(self.downloaded)

    def operation(self, name: str) -> OperationMetrics:
        found = self._ops.get(name)
        if found is None:
            m, b = self._metrics, self.backend
            succeeded = m.operations.labels(b, name, "success")
            duration = m.duration.labels(b, name)
            found = self._ops[name] = OperationMetrics(
                succeeded,
                m.operations.labels(b, name, "error"),
                duration,
                m.retries.labels(b, name),
                fast_inc(succeeded),
                fast_observe(duration),
            )
        return found

    def record(
        self, operation: str, seconds: float, attempts: int, error: BaseException | None
    ) -> None:
        """One finished logical call: its outcome, duration, retries and error class."""
        op = self._ops.get(operation) or self.operation(operation)
        op.observe_duration(seconds)
        if attempts > 1:
            op.retries.inc(attempts - 1)
        if error is None:
            op.count_success(1)
            return
        op.failed.inc()
        key = (operation, error_label(error))
        counter = self._errors.get(key)
        if counter is None:
            counter = self._errors[key] = self._metrics.errors.labels(self.backend, *key)
        counter.inc()


_default: StorageMetrics | None = None
_default_lock = threading.Lock()


def storage_metrics() -> StorageMetrics:
    """This process's storage metrics (built on first use, on their own registry)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = StorageMetrics()
        return _default
