"""The worker's Celery app: `celery -A crownsafe.tasks.worker worker -P prefork`.

Settings come from the environment. The storage client and the database engine are made
once per worker process, after the prefork (a connection must not cross a fork). With
WORKER_METRICS_PORT, the main process serves the worker's metrics there
(`crownsafe.tasks.metrics`): multiprocess mode is switched on below, before anything
imports prometheus-client, hence the imports after it.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

from crownsafe.config import load_settings
from crownsafe.tasks.metrics import prepare_multiprocess_dir

settings = load_settings()
prepare_multiprocess_dir(settings.worker_metrics_port)

from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_init, worker_process_init

from crownsafe.api._logging import configure_logging
from crownsafe.cutover.factory import create_app_storage
from crownsafe.db.session import make_engine, make_session_factory
from crownsafe.storage.usage import measure_storage_usage
from crownsafe.tasks.celery_app import MEASURE_STORAGE_USAGE, PROCESS_IMAGE, create_celery
from crownsafe.tasks.image_job import JobContext, fail_job, process_image
from crownsafe.tasks.metrics import (
    QueueDepthCollector,
    WorkerMetrics,
    metrics_registry,
    redis_queue_depth,
    start_metrics_server,
)

__all__ = ["app", "context"]

log = logging.getLogger("crownsafe.tasks.worker")
app = create_celery(settings)
_context: JobContext | None = None
_metrics = WorkerMetrics()


def context() -> JobContext:
    global _context
    if _context is None:
        engine = make_engine(settings.database_url.get(), pool_size=2, max_overflow=2)
        _context = JobContext(settings, create_app_storage(settings), make_session_factory(engine))
    return _context


@worker_init.connect  # type: ignore[untyped-decorator]
def _serve_metrics(**_: Any) -> None:
    """In the main process, before the pool starts: the metrics port, when set."""
    port = settings.worker_metrics_port
    if port <= 0:
        return
    queue = app.conf.task_default_queue
    depth = QueueDepthCollector(queue, redis_queue_depth(settings.broker_url, queue))
    start_metrics_server(port, metrics_registry(depth))


@worker_process_init.connect  # type: ignore[untyped-decorator]
def _fresh_process(**_: Any) -> None:
    global _context
    _context = None
    configure_logging(stream=sys.__stderr__, fmt=settings.log_format)


@app.task(name=PROCESS_IMAGE, bind=True)  # type: ignore[untyped-decorator]
def process_image_task(self: Any, job_id: str) -> str:
    """The image job; whatever goes wrong, the row ends `failed` with a reason, never stuck."""
    began = time.monotonic()
    outcome = _process(job_id)
    _metrics.record(outcome, time.monotonic() - began)
    return outcome


def _process(job_id: str) -> str:
    try:
        return process_image(context(), job_id)
    except SoftTimeLimitExceeded:
        fail_job(context(), job_id, "processing took longer than the time limit")
        return "failed"
    except Exception as exc:
        log.exception("job %s: unexpected %s", job_id, type(exc).__name__)
        fail_job(context(), job_id, f"internal error ({type(exc).__name__})")
        return "failed"


@app.task(name=MEASURE_STORAGE_USAGE)  # type: ignore[untyped-decorator]
def measure_storage_usage_task() -> int:
    """Beat's periodic task: the container's total size into crownsafe_storage_used_bytes."""
    return measure_storage_usage(context().storage).used_bytes
