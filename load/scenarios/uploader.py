"""Uploader: image uploads of the size mix in `load/images.py`, then their job status.

`POST /uploads` must answer 202 with the job id, status URL and the byte count sent;
`GET /uploads/[id]` must answer the same job, never `failed` (every image in the mix is
valid, so a failed job is a wrong answer).
"""

from __future__ import annotations

from collections import deque
from typing import Any

from locust import task

from load.images import UploadImage, image_mix
from load.scenarios.base import CrownsafeUser

__all__ = ["UploaderUser", "job_check"]

JOB_STATES = {"queued", "processing", "completed"}


def job_check(job_id: str) -> Any:
    def check(job: Any) -> str | None:
        if not isinstance(job, dict) or job.get("job_id") != job_id:
            return "answered another job"
        if job.get("status") == "failed":
            return "the job of a valid image failed"
        if job.get("status") not in JOB_STATES:
            return "job status is not one of queued/processing/completed"
        return None

    return check


class UploaderUser(CrownsafeUser):
    weight = 3

    def on_start(self) -> None:
        super().on_start()
        self.images = image_mix()
        self.weights = [image.weight for image in self.images]
        self.jobs: deque[str] = deque(maxlen=20)

    def _pick(self) -> UploadImage:
        return self.rng.choices(self.images, weights=self.weights)[0]

    @task(3)
    def upload(self) -> None:
        image = self._pick()

        def check(body: Any) -> str | None:
            if not isinstance(body, dict) or not body.get("job_id"):
                return "upload answer without a job id"
            if body.get("size_bytes") != len(image.data):
                return "upload answer with another byte count"
            return None

        files = {"file": (image.name, image.data, image.content_type)}
        body = self.call("POST", "/uploads", "/uploads", 202, files=files, check=check)
        if body is not None:
            self.jobs.append(str(body["job_id"]))

    @task(1)
    def job_status(self) -> None:
        if not self.jobs:
            return
        job_id = self.rng.choice(self.jobs)
        self.call("GET", f"/uploads/{job_id}", "/uploads/[id]", 200, check=job_check(job_id))
