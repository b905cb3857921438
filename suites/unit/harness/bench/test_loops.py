"""harness.bench (loops, rss, _io): interleaving, sweeps, peak RSS and the bench/*.json merge."""

from __future__ import annotations

import itertools
import threading

import pytest

from harness import bench


class FakeClock:
    """Advances only when an op says so: timings are exact."""

    def __init__(self) -> None:
        self.now = 0.0
        self.lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def test_interleaved_alternates_order_and_drops_warmup() -> None:
    clock, calls = FakeClock(), []

    def op(name: str, cost: float):
        def run() -> None:
            calls.append(name)
            clock.advance(cost)

        return run

    samples = bench.interleaved(
        {"azure": op("azure", 0.002), "s3": op("s3", 0.003)}, rounds=4, warmup=1, clock=clock
    )
    assert samples == {"azure": pytest.approx([0.002] * 4), "s3": pytest.approx([0.003] * 4)}
    assert calls == ["azure", "s3", "s3", "azure", "azure", "s3", "s3", "azure", "azure", "s3"]


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6])
def test_balanced_orders_put_every_key_in_every_place_after_every_other(n: int) -> None:
    orders = bench.balanced_orders(n)
    assert all(sorted(order) == list(range(n)) for order in orders)
    for place in range(n):
        counts = [sum(order[place] == k for order in orders) for k in range(n)]
        assert len(set(counts)) == 1, f"place {place}: {counts}"
    follows = [(a, b) for order in orders for a, b in itertools.pairwise(order)]
    pairs = {(a, b) for a in range(n) for b in range(n) if a != b}
    assert {p: follows.count(p) for p in pairs} == dict.fromkeys(
        pairs, len(follows) // max(len(pairs), 1)
    )
    assert bench.balanced_orders(2) == [[0, 1], [1, 0]]


def test_interleaved_four_keys_follow_the_design_and_drop_warmup() -> None:
    clock, calls = FakeClock(), []
    ops = {k: (lambda k=k: calls.append(k)) for k in "abcd"}
    samples = bench.interleaved(ops, rounds=8, warmup=4, clock=clock)
    assert {k: len(v) for k, v in samples.items()} == dict.fromkeys("abcd", 8)
    orders = bench.balanced_orders(4)
    assert calls == ["abcd"[i] for r in range(12) for i in orders[r % 4]]


def test_interleaved_runs_whole_cycles_until_the_time_budget_is_spent() -> None:
    clock = FakeClock()
    ops = {"a": lambda: clock.advance(0.25), "b": lambda: clock.advance(0.25)}
    # 0.5 s per round: 4 rounds take 2 s, the budget of 3.2 s ends after round 8
    samples = bench.interleaved(ops, rounds=4, warmup=2, budget_s=3.2, max_rounds=100,
                                   clock=clock)  # fmt: skip
    assert len(samples["a"]) == len(samples["b"]) == 8
    capped = bench.interleaved(ops, rounds=4, warmup=0, budget_s=1e9, max_rounds=10,
                                  clock=clock)  # fmt: skip
    assert len(capped["a"]) == 10
    fixed = bench.interleaved(ops, rounds=3, warmup=0, clock=clock)
    assert len(fixed["a"]) == 3


def test_sweep_reports_ops_and_bytes_per_second() -> None:
    clock, seen = FakeClock(), []

    def op(slot: int, i: int) -> None:
        seen.append((slot, i))

    def fake_clock() -> float:
        clock.advance(0.5)  # each point: begin + end reads = 1 s of wall time
        return clock.now

    points = bench.sweep(
        op, [1, 4], lambda w: 10 * w, backend="s3", operation="upload", size_bytes=1_000_000,
        clock=fake_clock,
    )  # fmt: skip
    assert [(p.workers, p.ops) for p in points] == [(1, 10), (4, 40)]
    assert [p.ops_per_s for p in points] == [20.0, 80.0]
    assert [p.mb_per_s for p in points] == [20.0, 80.0]
    assert {slot for slot, _ in seen} == {0, 1, 2, 3}
    assert len(seen) == 50


def test_sweep_propagates_a_failed_operation() -> None:
    def op(slot: int, i: int) -> None:
        if i == 3:
            raise RuntimeError("upload failed")

    with pytest.raises(RuntimeError, match="upload failed"):
        bench.sweep(op, [2], lambda w: 5, backend="azure", operation="upload", size_bytes=1)


def test_peak_rss_sees_a_large_allocation() -> None:
    with bench.PeakRss() as peak:
        block = bytearray(64 * 1024 * 1024)
        block[::4096] = b"x" * len(block[::4096])
        del block
    assert peak.added_bytes >= 48 * 1024 * 1024
