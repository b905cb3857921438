"""Prometheus metrics of one app: requests per route template, latency, upload bytes, jobs.

Each app owns its registry (two apps in one process never collide). Job outcomes are
counted where they are recorded, in PostgreSQL, by a collector that reads `image_jobs`
per status behind the scrapes (`JobStatusCollector`: a scrape never waits for the count),
so the numbers are right whichever worker ran a job. With several uvicorn workers set
PROMETHEUS_MULTIPROC_DIR (empty, per start) and the request metrics of all workers are
merged (prometheus-client's multiprocess mode).
The storage layer's metrics (`crownsafe.storage.metrics`, process-wide like the circuit
breakers they watch) are served beside the app's own; every name is in docs/metrics.md.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from crownsafe.storage.metrics import StorageMetrics, storage_metrics

__all__ = ["JOB_COUNT_INTERVAL_S", "ApiMetrics", "JobStatusCollector", "RateLimitEvents"]

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


JOB_COUNT_INTERVAL_S = 1.0
"""At most one count of the jobs per this many seconds per process, however often and by
how many scrapers `/metrics` is read."""
FIRST_COUNT_WAIT_S = 2.0


def _in_thread(work: Callable[[], None]) -> None:
    threading.Thread(target=work, name="job-status-count", daemon=True).start()


class JobStatusCollector(Collector):
    """`crownsafe_image_jobs{status=...}`: how many image jobs are in each status.

    The counts come from PostgreSQL (a GROUP BY over `image_jobs`), but never on a scrape's
    own time: that query grows with the table (measured: 0.7 ms on 1,000 rows, 38 ms on
    100,000, 221 ms on 1,000,000), so a scrape that ran it would be as slow as the table
    is long. A scrape answers with the last finished count and, when that count started
    at least `interval_s` ago and none is running, starts the next one (`start`: a
    background thread). The values are therefore one scrape old (with scrapes closer than
    `interval_s`, up to `interval_s` plus one query), the database sees at most one count
    per `interval_s` per process, and only the first scrape waits, up to `first_wait_s`,
    for the first count. A count that fails (the database is down) leaves the family
    without samples until one succeeds: never a made-up or an outdated number.
    """

    def __init__(
        self,
        counts: Callable[[], Mapping[str, int]],
        *,
        interval_s: float = JOB_COUNT_INTERVAL_S,
        first_wait_s: float = FIRST_COUNT_WAIT_S,
        clock: Callable[[], float] = time.monotonic,
        start: Callable[[Callable[[], None]], None] = _in_thread,
    ) -> None:
        self._counts = counts
        self.interval_s, self.first_wait_s = interval_s, first_wait_s
        self._clock, self._start = clock, start
        self._lock = threading.Lock()
        self._first = threading.Event()
        self._last: dict[str, int] | None = None
        self._started_at: float | None = None
        self._running = False

    def collect(self) -> Iterator[Metric]:
        self._refresh_if_due()
        self._first.wait(self.first_wait_s)
        with self._lock:
            last = self._last
        family = GaugeMetricFamily(
            "crownsafe_image_jobs", "Image jobs by status (from the database)", labels=["status"]
        )
        for status, count in sorted((last or {}).items()):
            family.add_metric([status], count)
        yield family

    def _refresh_if_due(self) -> None:
        with self._lock:
            now = self._clock()
            due = self._started_at is None or now - self._started_at >= self.interval_s
            if self._running or not due:
                return
            self._running, self._started_at = True, now
        self._start(self._refresh)

    def _refresh(self) -> None:
        try:
            counts: dict[str, int] | None = dict(self._counts())
        except Exception:
            counts = None
        with self._lock:
            self._last, self._running = counts, False
        self._first.set()


class ApiMetrics:
    def __init__(self, storage: StorageMetrics | None = None) -> None:
        self.registry = CollectorRegistry()
        self.storage = storage if storage is not None else storage_metrics()
        self.requests = Counter(
            "crownsafe_http_requests",
            "HTTP requests by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "crownsafe_http_request_duration_seconds",
            "Time from request start to the end of the response",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.upload_bytes = Counter(
            "crownsafe_upload_bytes",
            "Image bytes received by the upload route, by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.uploads = Counter(
            "crownsafe_uploads",
            "Uploads by outcome (stored, too_large, unsupported_type, over_quota, invalid, failed)",
            ["outcome"],
            registry=self.registry,
        )
        self.audit_write_failures = Counter(
            "crownsafe_audit_write_failures",
            "Audit rows of reads (SAS issued, share resolved) that could not be written; the "
            "read went on and its audit line was logged at WARNING (crownsafe.audit)",
            ["operation"],
            registry=self.registry,
        )
        self.rate_limit_rejections = Counter(
            "crownsafe_rate_limit_rejections",
            "Requests (or upload byte charges) refused with 429, by rate limit policy",
            ["policy"],
            registry=self.registry,
        )
        self.rate_limit_fallback_decisions = Counter(
            "crownsafe_rate_limit_fallback_decisions",
            "Rate limit decisions taken by the process's own counters because the shared "
            "counter storage (Redis) failed",
            registry=self.registry,
        )
        self.rate_limit_storage_outages = Counter(
            "crownsafe_rate_limit_storage_outages",
            "Outages of the rate limit counter storage (Redis) this process has seen begin",
            registry=self.registry,
        )
        self.rate_limit_storage_up = Gauge(
            "crownsafe_rate_limit_storage_up",
            "1 while the rate limit counters are shared in Redis, 0 while this process "
            "counts on its own because Redis failed",
            registry=self.registry,
            multiprocess_mode="livemin",
        )
        self.rate_limit_storage_up.set(1)
        self.backend_info = Gauge(
            "crownsafe_storage_backend_info",
            "Always 1, labelled with the app's configured storage backend (STORAGE_BACKEND): "
            "alert rules join it to name the backend of the app's own metrics",
            ["backend"],
            registry=self.registry,
            multiprocess_mode="max",
        )
        self._extra: list[Collector] = []

    def add_collector(self, collector: Collector) -> None:
        self._extra.append(collector)

    def exposition(self) -> bytes:
        """The text exposition (multiprocess-merged when PROMETHEUS_MULTIPROC_DIR is set)."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            text = generate_latest(registry)  # every process's values, storage's included
        else:
            text = generate_latest(self.registry) + generate_latest(self.storage.registry)
        if self._extra:
            extra = CollectorRegistry()
            for collector in self._extra:
                extra.register(collector)
            text += generate_latest(extra)
        return text


class RateLimitEvents:
    """The rate limiter's events (`crownsafe.api.ratelimit.LimiterEvents`) as metrics."""

    def __init__(self, metrics: ApiMetrics) -> None:
        self._metrics = metrics

    def refused(self, policy: str) -> None:
        self._metrics.rate_limit_rejections.labels(policy).inc()

    def fell_back(self) -> None:
        self._metrics.rate_limit_fallback_decisions.inc()

    def storage_up(self, up: bool) -> None:
        self._metrics.rate_limit_storage_up.set(1 if up else 0)
        if not up:
            self._metrics.rate_limit_storage_outages.inc()
