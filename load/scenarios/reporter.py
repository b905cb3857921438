"""Reporter: generate a risk report of a scan, then download it.

`POST /scans/[id]/reports` (PDF, HTML or JSON) answers 201; a stored report comes with a
read-only SAS URL that is fetched from storage (`GET [storage] report`) and must match
the answer's size and sha256; an inline one (storage disabled) must match them itself.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from locust import task

from load.scenarios.base import CrownsafeUser

__all__ = ["ReporterUser", "inline_problem"]

FORMATS = ("pdf", "pdf", "html", "json")


def inline_problem(report: dict[str, Any]) -> str | None:
    """What is wrong with an inline (not stored) report's content, or None."""
    content = str(report.get("content") or "")
    data = (
        base64.b64decode(content)
        if report.get("content_encoding") == "base64"
        else content.encode("utf-8")
    )
    if len(data) != report.get("size_bytes") or hashlib.sha256(data).hexdigest() != report.get(
        "sha256"
    ):
        return "inline report content differs from its size or sha256"
    return None


def _report_check(fmt: str) -> Any:
    def check(body: Any) -> str | None:
        if not isinstance(body, dict) or body.get("format") != fmt:
            return "report answer of another format"
        if body.get("stored"):
            return None if body.get("url") else "stored report without a URL"
        return inline_problem(body)

    return check


class ReporterUser(CrownsafeUser):
    weight = 1

    @task
    def report_and_download(self) -> None:
        scan_id = self.ensure_scan()
        if scan_id is None:
            return
        fmt = self.rng.choice(FORMATS)
        report = self.call(
            "POST",
            f"/scans/{scan_id}/reports",
            "/scans/[id]/reports",
            201,
            json={"format": fmt},
            check=_report_check(fmt),
        )
        if report is not None and report.get("stored"):
            self.fetch_storage(
                report["url"], "[storage] report", report["size_bytes"], report["sha256"]
            )
