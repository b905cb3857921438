"""The worker's own metrics, served on WORKER_METRICS_PORT by the worker's main process.

- `crownsafe_image_jobs_processed_total{outcome}`: image jobs the pool ran, by the status
  they ended in (`completed`, `failed`, `skipped`: already finished, a second delivery);
- `crownsafe_image_job_duration_seconds{outcome}`: their time, from the task starting to
  its return;
- `crownsafe_worker_queue_depth{queue}`: messages waiting in the Redis queue, read at
  scrape time (LLEN of the queue's list; jobs a worker has taken are not counted).

The pool's processes (prefork children) record the jobs; the main process serves them.
They meet in prometheus-client's multiprocess mode: `prepare_multiprocess_dir` gives the
worker a fresh PROMETHEUS_MULTIPROC_DIR before prometheus-client is imported (it picks its
mode at import), and `metrics_registry` merges the children's files. The storage metrics
of the worker's storage calls (crownsafe.storage.metrics: operations, breaker, quota, and
the used bytes of the periodic measurement) are in the same files, so the same scrape
shows them.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

from crownsafe.errors import WorkerConfigError

__all__ = [
    "JOB_DURATION_BUCKETS",
    "QueueDepthCollector",
    "WorkerMetrics",
    "metrics_registry",
    "prepare_multiprocess_dir",
    "redis_queue_depth",
    "start_metrics_server",
]

log = logging.getLogger("crownsafe.tasks.metrics")

JOB_DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
"""Seconds; up to CELERY_TASK_TIME_LIMIT's default (300 s)."""


def prepare_multiprocess_dir(port: int) -> str | None:
    """With a metrics port, make sure PROMETHEUS_MULTIPROC_DIR is set (a fresh temporary
    folder unless the environment names one, which must then be empty at start) before
    prometheus-client is imported; return it. Without a port, nothing (None)."""
    if port <= 0:
        return None
    found = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if found:
        return found
    if "prometheus_client" in sys.modules:
        raise WorkerConfigError(
            "WORKER_METRICS_PORT is set but prometheus-client was imported before the "
            "worker could switch it to multiprocess mode, so the pool's job metrics would "
            "never reach the port",
            hint="set PROMETHEUS_MULTIPROC_DIR to an empty folder in the worker's "
            "environment, or start the worker with `celery -A crownsafe.tasks.worker`",
        )
    folder = tempfile.mkdtemp(prefix="crownsafe-worker-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    return folder


class WorkerMetrics:
    """The job metric families on one registry (the process default: multiprocess mode
    writes them to files whatever the registry)."""

    def __init__(self, registry: Any = None) -> None:
        from prometheus_client import REGISTRY, Counter, Histogram

        target = registry if registry is not None else REGISTRY
        self.jobs = Counter(
            "crownsafe_image_jobs_processed",
            "Image jobs the worker ran, by the status they ended in (completed, failed, skipped)",
            ["outcome"],
            registry=target,
        )
        self.duration = Histogram(
            "crownsafe_image_job_duration_seconds",
            "Time of one image job run, by its outcome",
            ["outcome"],
            buckets=JOB_DURATION_BUCKETS,
            registry=target,
        )

    def record(self, outcome: str, seconds: float) -> None:
        self.jobs.labels(outcome).inc()
        self.duration.labels(outcome).observe(seconds)


class QueueDepthCollector:
    """`crownsafe_worker_queue_depth{queue}` read when scraped; no sample (and one
    warning line) when the broker cannot be read, rather than a made-up 0."""

    def __init__(self, queue: str, depth: Callable[[], int]) -> None:
        self.queue, self._depth = queue, depth

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        family = GaugeMetricFamily(
            "crownsafe_worker_queue_depth",
            "Messages waiting in the worker's Redis queue (not yet taken by a worker)",
            labels=["queue"],
        )
        try:
            family.add_metric([self.queue], float(self._depth()))
        except Exception as exc:
            log.warning("queue depth of %s not read: %s", self.queue, type(exc).__name__)
        yield family

    def describe(self) -> Iterator[Any]:
        return iter(())


def redis_queue_depth(broker_url: str, queue: str) -> Callable[[], int]:
    """LLEN of kombu's list for `queue` (priority 0, the only one the jobs use)."""
    import redis

    client = redis.Redis.from_url(broker_url, socket_timeout=2, socket_connect_timeout=2)

    def depth() -> int:
        return int(client.llen(queue))

    return depth


def metrics_registry(queue_depth: QueueDepthCollector | None = None) -> Any:
    """A registry merging every process's values (multiprocess mode), plus the queue."""
    from prometheus_client import CollectorRegistry, multiprocess

    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    if queue_depth is not None:
        registry.register(queue_depth)
    return registry


def start_metrics_server(port: int, registry: Any, addr: str = "0.0.0.0") -> Any:
    """Serve `registry` on `port` (prometheus-client's HTTP server, a daemon thread)."""
    from prometheus_client import start_http_server

    server, _thread = start_http_server(port, addr=addr, registry=registry)
    log.info("worker metrics on http://%s:%d/metrics", addr, port)
    return server
