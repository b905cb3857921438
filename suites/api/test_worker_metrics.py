"""The worker's own metrics port (WORKER_METRICS_PORT), scraped from a real Celery worker
(prefork pool): image jobs by outcome and their duration, the queue depth read from Redis,
the worker's storage metrics, and the storage used that the periodic task measures."""

from __future__ import annotations

import re
import shutil
import subprocess

import httpx

from crownsafe.config import load_settings
from crownsafe.tasks.celery_app import MEASURE_STORAGE_USAGE, create_celery
from harness.fixtures.api import ApiStackFactory
from harness.services.base import free_port

from .helpers import NotYet, image, poll, upload, wait_for_job


def sample(text: str, name: str, labels: str) -> float:
    found = re.search(rf"^{name}\{{{labels}\}} (\S+)$", text, re.MULTILINE)
    if not found:
        raise NotYet(f"no {name}{{{labels}}} on the worker's /metrics yet")
    return float(found.group(1))


def test_the_worker_serves_job_queue_storage_and_usage_metrics(
    backend_name: str, make_api_stack: ApiStackFactory
) -> None:
    port = free_port()
    stack = make_api_stack(
        backend_name, WORKER_METRICS_PORT=str(port), STORAGE_QUOTA_BYTES="1000000000"
    )
    url = f"http://127.0.0.1:{port}/metrics"
    client = stack.client(user_id=1101)
    job_id = upload(client, image("small.png")).json()["job_id"]
    assert wait_for_job(client, job_id)["status"] == "completed"

    def scrape() -> str:
        response = httpx.get(url, timeout=5, trust_env=False)
        assert response.status_code == 200
        return response.text

    def jobs_counted() -> str:
        text = scrape()
        if sample(text, "crownsafe_image_jobs_processed_total", 'outcome="completed"') < 1:
            raise NotYet("the completed job is not counted yet")
        return text

    text = poll(jobs_counted, timeout=20)
    assert sample(text, "crownsafe_image_job_duration_seconds_count", 'outcome="completed"') >= 1
    queue = stack.env["CELERY_QUEUE"]
    assert sample(text, "crownsafe_worker_queue_depth", f'queue="{queue}"') == 0
    ok = f'backend="{backend_name}",operation="download_blob",outcome="success"'
    assert sample(text, "crownsafe_storage_operations_total", ok) >= 1
    assert sample(text, "crownsafe_storage_quota_bytes", f'backend="{backend_name}"') == 1e9

    expected = sum(info.size for info in stack.storage.iter_blobs())
    assert expected > 0  # the upload and its thumbnail
    celery = create_celery(load_settings(stack.env))
    try:
        celery.send_task(MEASURE_STORAGE_USAGE, queue=queue)
    finally:
        celery.close()
    used = poll(
        lambda: sample(scrape(), "crownsafe_storage_used_bytes", f'backend="{backend_name}"'),
        timeout=20,
    )
    assert used == expected

    promtool = shutil.which("promtool")
    assert promtool, "promtool is not installed: run `make bootstrap` (Debian's prometheus)"
    done = subprocess.run(
        [promtool, "check", "metrics"], input=scrape().encode(), capture_output=True, timeout=60
    )
    report = (done.stdout + done.stderr).decode(errors="replace")
    assert done.returncode == 0 and not report.strip(), f"promtool check metrics:\n{report}"
