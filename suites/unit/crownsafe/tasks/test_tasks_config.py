"""The Celery app's reliability settings: acks_late, reject on worker lost, timeouts."""

from __future__ import annotations

from crownsafe.config import load_settings
from crownsafe.tasks.celery_app import create_celery, restore_interval


def test_reliability_settings() -> None:
    app = create_celery(
        load_settings({"REDIS_URL": "redis://127.0.0.1:1/0", "CELERY_VISIBILITY_TIMEOUT": "900"})
    )
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.broker_transport_options["visibility_timeout"] == 900
    assert conf.task_time_limit < conf.broker_transport_options["visibility_timeout"]
    assert conf.task_soft_time_limit < conf.task_time_limit
    app.close()


def test_restore_interval_bounds() -> None:
    assert restore_interval(6) == 1
    assert restore_interval(900) == 60
    assert restore_interval(90_000) == 60
