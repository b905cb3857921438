"""The drill's steady light load: one small image upload every `interval` seconds.

A scheduler thread starts an upload (`POST /uploads`, a raw PNG or JPEG body from
fixtures/images, httpx) every `interval` seconds on a small pool, so a storage call that
hangs (the latency fault) does not stop the load: at most `in_flight` uploads run at once,
and a tick that finds them all busy is skipped (counted). Only counts are kept; the alert
rules read the app's own metrics, not these.
"""

from __future__ import annotations

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx

__all__ = ["UploadCounts", "UploadLoad"]

IMAGES = Path(__file__).resolve().parents[2] / "fixtures" / "images"
_BODIES = (("small.png", "image/png"), ("small.jpg", "image/jpeg"))


@dataclass
class UploadCounts:
    started: int = 0
    ok: int = 0
    failed: int = 0
    skipped: int = 0


class UploadLoad:
    """Uploads to `url` as the holder of `token`, until `stop()`."""

    def __init__(self, url: str, token: str, *, interval: float = 0.15, in_flight: int = 4) -> None:
        self.interval = interval
        self.counts = UploadCounts()
        self._bodies = [((IMAGES / name).read_bytes(), kind) for name, kind in _BODIES]
        self._client = httpx.Client(
            base_url=url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=60.0,
            trust_env=False,
            limits=httpx.Limits(max_connections=in_flight + 1),
        )
        self._slots = threading.BoundedSemaphore(in_flight)
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(in_flight, thread_name_prefix="alert-load")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="alert-load", daemon=True)

    def start(self) -> UploadLoad:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._client.close()

    def _upload(self, body: bytes, kind: str) -> None:
        try:
            response = self._client.post("/uploads", content=body, headers={"Content-Type": kind})
            ok = response.status_code == 202
        except httpx.HTTPError:
            ok = False
        finally:
            self._slots.release()
        with self._lock:
            if ok:
                self.counts.ok += 1
            else:
                self.counts.failed += 1

    def _run(self) -> None:
        for body, kind in itertools.cycle(self._bodies):
            if self._stop.wait(self.interval):
                return
            if not self._slots.acquire(blocking=False):
                with self._lock:
                    self.counts.skipped += 1
                continue
            with self._lock:
                self.counts.started += 1
            self._pool.submit(self._upload, body, kind)
