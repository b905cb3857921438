"""CPU seconds of process trees, measured in blocks of calls interleaved across kinds.

The API benchmark compares what the app spends per MiB with what an empty app (the
floor, `harness.services.floor_app`) spends on the same bodies, and what all processes
spend on an upload through the API with what they spend on a direct upload. Kernel CPU
times come in clock ticks (10 ms), so single calls are not measured: each kind of call
runs `per_block` times in a row between two readings, and the blocks rotate through a
balanced order round after round, so drift on a shared machine falls on every kind alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import psutil

from harness.bench.loops import balanced_orders

__all__ = ["interleaved_cpu", "tree_cpu_seconds"]


def tree_cpu_seconds(pid: int) -> float:
    """user + system CPU seconds of `pid` and every live descendant, plus what its
    reaped children used (a uvicorn worker that ended is still counted)."""
    root = psutil.Process(pid)
    total = 0.0
    for process in [root, *root.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
        if process is root:
            total += times.children_user + times.children_system
    return total


def interleaved_cpu(
    ops: Mapping[str, Callable[[], object]],
    meters: Mapping[str, Callable[[], float]],
    rounds: int,
    per_block: int,
) -> dict[str, dict[str, float]]:
    """CPU seconds each meter counted while each op ran: `{op: {meter: seconds}}`, over
    `rounds` x `per_block` calls of every op. Each round runs one block per op, in the
    next `balanced_orders` order; every meter is read before and after every block."""
    keys = list(ops)
    orders = balanced_orders(len(keys))
    totals = {k: dict.fromkeys(meters, 0.0) for k in keys}
    for index in range(rounds):
        for position in orders[index % len(orders)]:
            key = keys[position]
            before = {name: read() for name, read in meters.items()}
            for _ in range(per_block):
                ops[key]()
            for name, read in meters.items():
                totals[key][name] += read() - before[name]
    return totals
