"""Measurement helpers the benchmarks share: interleaved pairs, A/A, sweeps, peak RSS.

pytest-benchmark times one callable at a time; a fair Azure-vs-S3 (or crownsafe-vs-SDK)
claim needs the two measured in the same run, alternating (ABBA order, so drift hits both
alike), and an A/A run of one thing against itself for the noise floor. A concurrency sweep needs
many callers at once. Those loops live here, with an injectable clock so they are unit
tested exactly; the JSON they produce follows `harness/report/benchmodel.py`.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil

from harness.rundir import write_json

__all__ = [
    "PeakRss",
    "SweepPoint",
    "balanced_orders",
    "interleaved",
    "merge_json",
    "sweep",
]

Clock = Callable[[], float]


def balanced_orders(n: int) -> list[list[int]]:
    """Call orders for `n` keys in which each key takes every position equally often and
    (for even `n`) follows every other key exactly once: a Williams design.

    For two keys this is ABBA (`[[0, 1], [1, 0]]`); for four, four orders. Time a multiple
    of `len(balanced_orders(n))` rounds to keep the balance exact.
    """
    if n < 1:
        raise ValueError(f"balanced_orders: need at least one key, got {n}")
    first, low, high = [0], 1, n - 1
    while len(first) < n:
        first.append(low)
        low += 1
        if len(first) < n:
            first.append(high)
            high -= 1
    rows = [[(k + shift) % n for k in first] for shift in range(n)]
    return rows if n % 2 == 0 or n == 1 else rows + [row[::-1] for row in rows]


def interleaved(
    ops: Mapping[str, Callable[[], object]],
    rounds: int,
    *,
    warmup: int = 1,
    budget_s: float = 0.0,
    max_rounds: int | None = None,
    clock: Clock = time.perf_counter,
) -> dict[str, list[float]]:
    """Time every op once per round, each round in the next `balanced_orders` order.

    Two keys alternate ABBA...; more keys rotate through a Williams design, so no key is
    favoured by its place in the round or by the key before it. Returns seconds per call
    per key, warm-up rounds dropped. After `rounds` timed rounds it goes on in whole
    cycles of the design while the timed rounds have taken less than `budget_s` seconds,
    up to `max_rounds` (a time budget, never a look at the results, decides when to
    stop). Used for Azure vs S3 (keys = backends), crownsafe vs the raw SDK, and A/A runs.
    """
    keys = list(ops)
    orders = balanced_orders(len(keys))
    samples: dict[str, list[float]] = {k: [] for k in keys}
    limit = max(rounds, max_rounds or rounds)
    started = clock()
    timed = -warmup

    def more() -> bool:
        if timed < rounds:
            return True
        if timed >= limit:
            return False
        return timed % len(orders) != 0 or clock() - started < budget_s

    while more():
        if timed == 0:
            started = clock()
        for index in orders[(timed + warmup) % len(orders)]:
            key = keys[index]
            began = clock()
            ops[key]()
            elapsed = clock() - began
            if timed >= 0:
                samples[key].append(elapsed)
        timed += 1
    return samples


@dataclass(frozen=True)
class SweepPoint:
    """One (backend, operation, size, workers) point of `bench/concurrency.json`."""

    backend: str
    operation: str
    size_bytes: int
    workers: int
    ops: int
    seconds: float
    ops_per_s: float
    mb_per_s: float


def sweep(
    op: Callable[[int, int], object],
    workers: Sequence[int],
    ops_per_point: Callable[[int], int],
    *,
    backend: str,
    operation: str,
    size_bytes: int,
    clock: Clock = time.perf_counter,
) -> list[SweepPoint]:
    """Run `op(worker_slot, i)` `ops_per_point(w)` times on `w` threads for each `w`.

    Worker `slot` makes the calls with `i % w == slot`, one after another, so two calls
    with the same slot never overlap (an op may write one object per slot: moto 5.2
    answers 500 when one key is overwritten by concurrent requests). Throughput is
    completed operations over wall time (MB = 10^6 bytes). Any exception in an op
    propagates: a sweep that loses operations must not report a speed.
    """
    points = []
    for w in workers:
        total = ops_per_point(w)

        def worker(slot: int, w: int = w, total: int = total) -> None:
            for i in range(slot, total, w):
                op(slot, i)

        with ThreadPoolExecutor(max_workers=w, thread_name_prefix=f"sweep{w}") as pool:
            began = clock()
            futures = [pool.submit(worker, slot) for slot in range(min(w, total))]
            for future in futures:
                future.result()
            seconds = max(clock() - began, 1e-9)
        points.append(
            SweepPoint(
                backend=backend,
                operation=operation,
                size_bytes=size_bytes,
                workers=w,
                ops=total,
                seconds=round(seconds, 6),
                ops_per_s=round(total / seconds, 3),
                mb_per_s=round(total * size_bytes / 1e6 / seconds, 3),
            )
        )
    return points


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


def merge_json(
    run_dir: Path,
    relative: str,
    list_key: str,
    entries: Sequence[Any],
    identity: Sequence[str],
) -> Path:
    """Add `entries` (dataclasses or dicts) to `run_dir/relative`'s `list_key` list,
    replacing earlier entries with the same `identity` fields."""
    target = run_dir / relative
    current: dict[str, Any] = {}
    if target.is_file():
        try:
            loaded = json.loads(target.read_text("utf-8"))
            current = loaded if isinstance(loaded, dict) else {}
        except ValueError:
            current = {}
    new = [asdict(e) if not isinstance(e, dict) else dict(e) for e in entries]

    def key(item: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(item.get(f) for f in identity)

    replaced = {key(e) for e in new}
    kept = [e for e in current.get(list_key, []) if isinstance(e, dict) and key(e) not in replaced]
    current[list_key] = kept + new
    return write_json(run_dir, relative, current)
