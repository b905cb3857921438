"""harness.bench.cputime: blocks of calls interleaved across kinds, every meter read
around every block, and process-tree CPU times."""

from __future__ import annotations

import os

from harness.bench.cputime import interleaved_cpu, tree_cpu_seconds


def test_each_block_is_charged_to_its_own_kind_for_every_meter() -> None:
    spent = {"app": 0.0, "floor": 0.0}
    order: list[str] = []

    def call(kind: str, meter: str, cost: float) -> None:
        order.append(kind)
        spent[meter] += cost

    totals = interleaved_cpu(
        {"api": lambda: call("api", "app", 0.5), "floor": lambda: call("floor", "floor", 0.25)},
        {"app": lambda: spent["app"], "floor": lambda: spent["floor"]},
        rounds=2,
        per_block=3,
    )
    assert totals == {"api": {"app": 3.0, "floor": 0.0}, "floor": {"app": 0.0, "floor": 1.5}}
    assert order == ["api"] * 3 + ["floor"] * 6 + ["api"] * 3  # ABBA by blocks


def test_three_kinds_rotate_through_every_position() -> None:
    seen: list[str] = []
    ops = {k: (lambda k=k: seen.append(k)) for k in ("api", "direct", "floor")}
    interleaved_cpu(ops, {"none": lambda: 0.0}, rounds=6, per_block=1)
    first = [seen[i] for i in range(0, 18, 3)]
    assert sorted(first) == ["api", "api", "direct", "direct", "floor", "floor"]
    assert len(seen) == 18


def test_a_process_tree_counts_at_least_this_process() -> None:
    own = os.times()
    assert tree_cpu_seconds(os.getpid()) >= (own.user + own.system) - 0.02
