"""Sample process trees with psutil while a load runs: CPU % of one core and RSS.

`ProcessSampler` owns one thread; every `interval_s` it reads, for each role (the app,
the Celery worker, the generator), the root processes it was given and all their
descendants. CPU is `psutil.Process.cpu_percent()` summed over the tree (100 = one core
busy); RSS is summed over the tree, in MiB. A process that exits between two samples is
simply not counted in the later one. The clock is injectable for tests.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import psutil

from harness.runfolder.load import ProcessRole, ResourceSample, ResourceSeries

__all__ = ["ProcessSampler", "cores_available", "series_window_mean"]

MIB = 1024 * 1024


def cores_available() -> int:
    """The cores this process may run on (its affinity), else the machine's count."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


@dataclass
class _Tree:
    roots: list[int]
    seen: dict[int, psutil.Process] = field(default_factory=dict)
    pids: set[int] = field(default_factory=set)

    def processes(self) -> list[psutil.Process]:
        """The roots and their descendants now alive (cached so cpu_percent has a baseline)."""
        alive: dict[int, psutil.Process] = {}
        for pid in self.roots:
            root = self.seen.get(pid)
            try:
                root = root or psutil.Process(pid)
                family = [root, *root.children(recursive=True)]
            except psutil.Error:
                continue
            for proc in family:
                alive[proc.pid] = self.seen.get(proc.pid, proc)
        self.seen = alive
        self.pids.update(alive)
        return list(alive.values())


class ProcessSampler:
    """Samples the given process trees every `interval_s` seconds until `stop()`."""

    def __init__(
        self,
        roles: Mapping[ProcessRole, Iterable[int]],
        *,
        interval_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        cores: int | None = None,
    ) -> None:
        self.interval_s = interval_s
        self.clock = clock
        self.cores = cores or cores_available()
        self._trees: dict[ProcessRole, _Tree] = {
            role: _Tree([int(p) for p in pids]) for role, pids in roles.items()
        }
        self._samples: dict[ProcessRole, list[ResourceSample]] = {r: [] for r in self._trees}
        self._start = clock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="load-sampler", daemon=True)
        self._lock = threading.Lock()

    def add(self, role: ProcessRole, pid: int) -> None:
        """Follow one more root process (e.g. a locust worker started later)."""
        with self._lock:
            tree = self._trees.setdefault(role, _Tree([]))
            self._samples.setdefault(role, [])
            if pid not in tree.roots:
                tree.roots.append(pid)

    def start(self) -> ProcessSampler:
        self._start = self.clock()
        self.sample_once()  # the cpu_percent baseline; its CPU values are 0 and dropped
        with self._lock:
            for samples in self._samples.values():
                samples.clear()
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.sample_once()

    def sample_once(self) -> None:
        """One sample of every role now (also usable without the thread, in tests)."""
        with self._lock:
            t_s = round(self.clock() - self._start, 3)
            for role, tree in self._trees.items():
                cpu = rss = 0.0
                counted = False
                for proc in tree.processes():
                    with contextlib.suppress(psutil.Error):
                        cpu += proc.cpu_percent(None)
                        rss += proc.memory_info().rss
                        counted = True
                if counted:
                    self._samples[role].append(
                        ResourceSample(
                            t_s=t_s, cpu_percent=round(cpu, 1), rss_mib=round(rss / MIB, 2)
                        )
                    )

    def stop(self) -> list[ResourceSeries]:
        """Stop sampling; one `ResourceSeries` per role (with its peaks)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        with self._lock:
            return [self._series(role) for role in self._trees]

    def series(self) -> list[ResourceSeries]:
        """The series so far (the thread keeps sampling)."""
        with self._lock:
            return [self._series(role) for role in self._trees]

    def _series(self, role: ProcessRole) -> ResourceSeries:
        samples = list(self._samples[role])
        return ResourceSeries(
            role=role,
            pids=sorted(self._trees[role].pids or self._trees[role].roots),
            cores_available=self.cores,
            samples=samples,
            peak_cpu_percent=max((s.cpu_percent for s in samples), default=None),
            peak_rss_mib=max((s.rss_mib for s in samples), default=None),
        )


def series_window_mean(
    series: ResourceSeries, start_s: float, end_s: float, *, offset_s: float = 0.0
) -> float | None:
    """Mean CPU % of the samples with `start_s <= t - offset_s <= end_s` (None if none)."""
    picked = [s.cpu_percent for s in series.samples if start_s <= s.t_s - offset_s <= end_s]
    return round(sum(picked) / len(picked), 1) if picked else None
