"""The Celery app, configured for jobs that must run exactly once in effect.

- `task_acks_late`: a message is acknowledged after the job ran, not when it arrived, so
  a worker that dies mid-job does not lose it. This is safe only because the image job
  is idempotent (see `crownsafe.tasks.image_job`).
- `task_reject_on_worker_lost`: a prefork child killed mid-job (OOM, SIGKILL) gets its
  message requeued instead of acknowledged.
- `worker_prefetch_multiplier=1`: a worker holds one unacknowledged message per process,
  so a killed worker strands at most that many.
- `visibility_timeout` (CELERY_VISIBILITY_TIMEOUT, default 900 s): Redis has no real
  acknowledgements; a message not acknowledged within this time is given to another
  worker. It must exceed the longest job (`CELERY_TASK_TIME_LIMIT`, default 300 s, checked
  at load time) or a slow job would run twice; it is also how long a job of a worker that
  died entirely waits before it is redelivered. Celery's default (1 h) would leave an
  upload unprocessed for an hour after a crash; 15 min bounds that while leaving 3x
  headroom over the time limit. Redelivery happens at the first sweep after the timeout
  (`restore_interval`).
- `beat_schedule`: `MEASURE_STORAGE_USAGE` every STORAGE_USAGE_INTERVAL_SECONDS (default
  300; 0 = never), the storage-used gauge of the quota alert (`crownsafe.storage.usage`).
  Beat sends it: run one `celery -A crownsafe.tasks.worker beat` beside the workers (or
  one worker with `-B`); a run that waited longer than one interval expires unrun.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery import Celery

from crownsafe.config import Settings

__all__ = [
    "MEASURE_STORAGE_USAGE",
    "PROCESS_IMAGE",
    "QUEUE",
    "create_celery",
    "enqueue_image_job",
    "restore_interval",
]

PROCESS_IMAGE = "crownsafe.process_image"
MEASURE_STORAGE_USAGE = "crownsafe.measure_storage_usage"
QUEUE = "crownsafe-images"


def create_celery(settings: Settings) -> Celery:
    if not settings.broker_url:
        from crownsafe.errors import WorkerConfigError

        raise WorkerConfigError(
            "no Celery broker is configured",
            hint="set REDIS_URL (or CELERY_BROKER_URL) to redis://host:port/db",
        )
    app = Celery("crownsafe", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_time_limit=settings.celery_task_time_limit,
        task_soft_time_limit=max(1, settings.celery_task_time_limit * 4 // 5),
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_default_queue=settings.celery_queue or QUEUE,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": settings.celery_visibility_timeout,
            "unacked_restore_interval": restore_interval(settings.celery_visibility_timeout),
            "unacked_restore_throttle": 1,
            "socket_timeout": 5,
            "socket_connect_timeout": 5,
        },
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        enable_utc=True,
        beat_schedule=beat_schedule(settings),
    )
    return app


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    """The periodic tasks: the storage-usage measurement, unless its interval is 0."""
    interval = settings.storage_usage_interval_seconds
    if interval <= 0:
        return {}
    return {
        "storage-usage": {
            "task": MEASURE_STORAGE_USAGE,
            "schedule": timedelta(seconds=interval),
            "options": {"expires": interval},
        }
    }


def restore_interval(visibility_timeout: int) -> int:
    """Seconds between sweeps for unacknowledged messages past their visibility timeout.

    Kombu's default sweeps every 10 x 10 s; one sweep every visibility_timeout / 15
    (1 s to 60 s) redelivers a dead worker's job soon after its timeout passes.
    """
    return max(1, min(60, visibility_timeout // 15))


def enqueue_image_job(app: Celery, job_id: str) -> None:
    """Publish the job (blocking; call it from a thread in async code)."""
    app.send_task(PROCESS_IMAGE, args=[job_id], queue=app.conf.task_default_queue, retry=False)
