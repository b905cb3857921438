"""Benchmark support: measurement loops, peak RSS, statistics, goal verdicts, cost, the gate.

The benchmarks (`benchmarks/`) measure with `loops` and `rss`; `stats`, `overhead`,
`gate` and `cost` turn numbers into verdicts that the `crownsafe-harness bench` command
(`harness.bench.command`) and the report read. This package does not import the command,
so the report can import the gate without pulling in a CLI.
"""

from __future__ import annotations

from harness.bench import cost, overhead, stats
from harness.bench.gate import (
    DEFAULT_NOISE_FLOOR,
    DEFAULT_THRESHOLD,
    GateRegression,
    GateResult,
    aa_noise_floor,
    find_regressions,
    samples_by_name,
)
from harness.bench.loops import balanced_orders, interleaved, sweep
from harness.bench.rss import PeakRss

__all__ = [
    "DEFAULT_NOISE_FLOOR",
    "DEFAULT_THRESHOLD",
    "GateRegression",
    "GateResult",
    "PeakRss",
    "aa_noise_floor",
    "balanced_orders",
    "cost",
    "find_regressions",
    "interleaved",
    "overhead",
    "samples_by_name",
    "stats",
    "sweep",
]
