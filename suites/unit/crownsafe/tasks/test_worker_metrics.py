"""The worker's metrics pieces without a worker: the job counters, the queue-depth
collector (and what it does when Redis cannot be read), the multiprocess folder and the
WORKER_METRICS_PORT setting. suites/api/test_worker_metrics.py scrapes a real worker."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from crownsafe.config import load_settings
from crownsafe.errors import WorkerConfigError
from crownsafe.tasks.metrics import (
    QueueDepthCollector,
    WorkerMetrics,
    metrics_registry,
    prepare_multiprocess_dir,
)

BROKER = {"REDIS_URL": "redis://127.0.0.1:1/0"}


def test_jobs_are_counted_and_timed_by_outcome() -> None:
    registry = CollectorRegistry()
    metrics = WorkerMetrics(registry)
    metrics.record("completed", 0.4)
    metrics.record("completed", 1.5)
    metrics.record("failed", 0.1)
    get = registry.get_sample_value
    assert get("crownsafe_image_jobs_processed_total", {"outcome": "completed"}) == 2
    assert get("crownsafe_image_jobs_processed_total", {"outcome": "failed"}) == 1
    assert get("crownsafe_image_job_duration_seconds_sum", {"outcome": "completed"}) == 1.9


def test_the_queue_depth_is_read_at_scrape_time() -> None:
    depths = iter([3, 0])
    registry = metrics_registry(QueueDepthCollector("q1", lambda: next(depths)))
    labels = {"queue": "q1"}
    assert registry.get_sample_value("crownsafe_worker_queue_depth", labels) == 3
    assert registry.get_sample_value("crownsafe_worker_queue_depth", labels) == 0


def test_an_unreadable_broker_gives_no_sample_not_a_zero(caplog: pytest.LogCaptureFixture) -> None:
    def down() -> int:
        raise ConnectionError("redis down")

    registry = metrics_registry(QueueDepthCollector("q1", down))
    assert registry.get_sample_value("crownsafe_worker_queue_depth", {"queue": "q1"}) is None
    assert "queue depth of q1 not read: ConnectionError" in caplog.text


def test_the_multiprocess_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    assert prepare_multiprocess_dir(0) is None
    # prometheus-client is imported in this process: too late to switch modes by itself
    with pytest.raises(WorkerConfigError, match="PROMETHEUS_MULTIPROC_DIR"):
        prepare_multiprocess_dir(9100)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "/operators/own")
    assert prepare_multiprocess_dir(9100) == "/operators/own"


def test_worker_metrics_port_setting() -> None:
    assert load_settings(BROKER).worker_metrics_port == 0
    assert load_settings({**BROKER, "WORKER_METRICS_PORT": "9108"}).worker_metrics_port == 9108
    with pytest.raises(WorkerConfigError, match="WORKER_METRICS_PORT=70000"):
        load_settings({**BROKER, "WORKER_METRICS_PORT": "70000"})
