"""Peak resident memory of a block of code: the kernel's high-water mark where it exists.

Benchmarks and `harness.bench.memprobe` use it to check that a streamed upload does not
hold the whole object in memory.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import psutil

__all__ = ["PeakRss"]


class PeakRss:
    """Peak resident memory added by the code inside `with PeakRss() as peak:`.

    On Linux the kernel's high-water mark is reset first (`/proc/self/clear_refs` = 5)
    and read back from VmHWM; elsewhere a 2 ms psutil sampler thread stands in.
    """

    def __init__(self, interval: float = 0.002) -> None:
        self.interval = interval
        self.baseline = 0
        self.peak = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._kernel = False

    @property
    def added_bytes(self) -> int:
        return max(self.peak - self.baseline, 0)

    @property
    def method(self) -> str:
        if self._kernel:
            return "kernel VmHWM, reset through /proc/self/clear_refs"
        return f"psutil RSS sampled every {self.interval * 1000:g} ms"

    def __enter__(self) -> PeakRss:
        self.baseline = psutil.Process().memory_info().rss
        try:
            Path("/proc/self/clear_refs").write_text("5")
            self._kernel = _vm_hwm() is not None
        except OSError:
            self._kernel = False
        if not self._kernel:
            self.peak = self.baseline
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def _sample(self) -> None:
        proc = psutil.Process()
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, proc.memory_info().rss)

    def __exit__(self, *exc: object) -> None:
        if self._kernel:
            self.peak = _vm_hwm() or self.baseline
        else:
            self._stop.set()
            if self._thread is not None:
                self._thread.join()
            self.peak = max(self.peak, psutil.Process().memory_info().rss)


def _vm_hwm() -> int | None:
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
    return int(match.group(1)) * 1024 if match else None
