"""Reader: the cheap reads an app answers most: health, job status, scan list and scans.

On start the user makes what it reads: two scans and one small upload (its own objects).
"""

from __future__ import annotations

from typing import Any

from locust import task

from load.images import image_mix
from load.scenarios.base import CrownsafeUser
from load.scenarios.uploader import job_check

__all__ = ["ReaderUser"]


def _healthy(body: Any) -> str | None:
    if not isinstance(body, dict) or body.get("status") != "healthy":
        return "health is not 'healthy'"
    return None


class ReaderUser(CrownsafeUser):
    weight = 4

    def on_start(self) -> None:
        super().on_start()
        self.job_id: str | None = None
        for _ in range(2):
            self.create_scan()
        small = next(image for image in image_mix() if image.name == "small.jpg")
        files = {"file": (small.name, small.data, small.content_type)}
        body = self.call("POST", "/uploads", "/uploads", 202, files=files)
        if body is not None:
            self.job_id = str(body["job_id"])

    @task(2)
    def health(self) -> None:
        self.call("GET", "/health", "/health", 200, check=_healthy)

    @task(2)
    def job_status(self) -> None:
        if self.job_id:
            job_id = self.job_id
            self.call("GET", f"/uploads/{job_id}", "/uploads/[id]", 200, check=job_check(job_id))

    @task(2)
    def list_scans(self) -> None:
        mine = set(self.scans)

        def check(body: Any) -> str | None:
            scans = body.get("scans") if isinstance(body, dict) else None
            if not isinstance(scans, list):
                return "scan list without scans"
            ids = {scan.get("id") for scan in scans if isinstance(scan, dict)}
            if not mine <= ids:
                return "scan list misses this user's scans"
            if ids - mine:
                return "scan list holds scans of another user"
            return None

        self.call("GET", "/scans", "/scans", 200, check=check)

    @task(4)
    def read_scan(self) -> None:
        if not self.scans:
            return
        scan_id = self.rng.choice(self.scans)

        def check(body: Any) -> str | None:
            if not isinstance(body, dict) or body.get("id") != scan_id:
                return "answered another scan"
            return None

        self.call("GET", f"/scans/{scan_id}", "/scans/[id]", 200, check=check)
