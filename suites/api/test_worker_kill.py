"""acks_late + an idempotent job: a killed worker or a duplicate message ends in one result.

The job is paused deterministically by the test-only gate (JOB_GATE_DIR): it writes
`<job>.started` and waits for `<job>.release`. The worker is SIGKILLed (main process and
pool children) while the job provably runs; a new worker gets the message back once the
(short, for this stack) visibility timeout passes.
"""

from __future__ import annotations

from pathlib import Path

from crownsafe.config import load_settings
from crownsafe.tasks.celery_app import create_celery, enqueue_image_job
from harness.fixtures.api import ApiStack, ApiStackFactory

from .helpers import NotYet, image, poll, upload, wait_for_job


def _started(gate: Path, job_id: str) -> None:
    if not (gate / f"{job_id}.started").exists():
        raise NotYet("the job has not reached the gate")


def _thumbnails(stack: ApiStack, job_id: str) -> list[str]:
    return [b.name for b in stack.storage.list_blobs(prefix=f"thumbnails/{job_id}")]


def test_worker_killed_mid_job_completes_once(
    backend_name: str, make_api_stack: ApiStackFactory
) -> None:
    stack = make_api_stack(
        backend_name, gated=True, CELERY_VISIBILITY_TIMEOUT="6", CELERY_TASK_TIME_LIMIT="5"
    )
    assert stack.worker is not None
    client = stack.client(user_id=1001)
    job_id = upload(client, image("medium.png")).json()["job_id"]
    poll(lambda: _started(stack.gate_dir, job_id), timeout=30)
    first_worker = stack.worker.pid
    stack.worker.kill()
    assert client.get(f"/uploads/{job_id}").json()["status"] == "processing"

    stack.worker.start()
    assert stack.worker.pid != first_worker
    (stack.gate_dir / f"{job_id}.release").touch()
    job = wait_for_job(client, job_id, timeout=90)
    assert job["status"] == "completed", job
    assert job["attempts"] >= 2, "the job must have run again after the kill"
    assert _thumbnails(stack, job_id) == [f"thumbnails/{job_id}.jpg"]


def test_duplicate_message_changes_nothing(
    backend_name: str, make_api_stack: ApiStackFactory
) -> None:
    """The same job id delivered again after completion: same row, one thumbnail."""
    stack = make_api_stack(backend_name)
    assert stack.worker is not None and stack.worker.log_path is not None
    client = stack.client(user_id=1002)
    job_id = upload(client, image("small.jpg")).json()["job_id"]
    done = wait_for_job(client, job_id)
    assert done["status"] == "completed"
    celery = create_celery(load_settings(stack.env))
    try:
        enqueue_image_job(celery, job_id)
        enqueue_image_job(celery, job_id)
    finally:
        celery.close()
    log_path = stack.worker.log_path

    def skipped_twice() -> None:
        if log_path.read_text().count(f"job {job_id}: already finished") < 2:
            raise NotYet("the duplicates were not processed yet")

    poll(skipped_twice, timeout=30)
    again = client.get(f"/uploads/{job_id}").json()
    assert again["attempts"] == done["attempts"] == 1
    assert again["phash"] == done["phash"] and again["status"] == "completed"
    assert _thumbnails(stack, job_id) == [f"thumbnails/{job_id}.jpg"]
