"""Measurement loops the benchmarks share: interleaved pairs, A/A, concurrency sweeps.

pytest-benchmark times one callable at a time; a fair Azure-vs-S3 (or crownsafe-vs-SDK)
claim needs the two measured in the same run, alternating (ABBA order, so drift hits both
alike), and an A/A run of one thing against itself for the noise floor. A concurrency sweep needs
many callers at once. Those loops live here, with an injectable clock so they are unit
tested exactly; the JSON they produce follows the models in `harness/runfolder/bench.py`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

from harness.runfolder.bench import SweepPoint

__all__ = ["Clock", "balanced_orders", "interleaved", "sweep"]

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
