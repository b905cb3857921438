"""Sharer: share a scan, resolve the link, fetch the snapshot straight from storage.

Create (or reuse) a scan, `POST /scans/[id]/shares` (JSON or PDF snapshot), resolve
`GET /shares/[token]` (a fresh read-only SAS / presigned URL with size and sha256), then
GET that URL from the storage service itself (`GET [storage] shared snapshot`): the
bytes must match. Now and then the link is revoked and must then answer 410.
"""

from __future__ import annotations

from typing import Any

from locust import task

from load.scenarios.base import CrownsafeUser

__all__ = ["SharerUser"]


def _share_check(body: Any) -> str | None:
    if not isinstance(body, dict) or not body.get("token") or not body.get("url"):
        return "share answer without a token or url"
    return None


def _resolved_check(body: Any) -> str | None:
    if not isinstance(body, dict) or not str(body.get("url", "")).startswith("http"):
        return "resolved share without a URL"
    if not isinstance(body.get("size_bytes"), int) or len(str(body.get("sha256", ""))) != 64:
        return "resolved share without size and sha256"
    return None


class SharerUser(CrownsafeUser):
    weight = 2

    @task
    def share_and_fetch(self) -> None:
        scan_id = self.ensure_scan()
        if scan_id is None:
            return
        fmt = "pdf" if self.rng.random() < 0.2 else "json"
        share = self.call(
            "POST",
            f"/scans/{scan_id}/shares",
            "/scans/[id]/shares",
            201,
            json={"format": fmt},
            check=_share_check,
        )
        if share is None:
            return
        token = share["token"]
        resolved = self.call(
            "GET", f"/shares/{token}", "/shares/[token]", 200, check=_resolved_check
        )
        if resolved is None:
            return
        self.fetch_storage(
            resolved["url"],
            "[storage] shared snapshot",
            resolved["size_bytes"],
            resolved["sha256"],
        )
        if self.rng.random() < 0.25:
            self.call("DELETE", f"/shares/{token}", "/shares/[token]", 204)
            self.call("GET", f"/shares/{token}", "/shares/[token] (revoked)", 410)
