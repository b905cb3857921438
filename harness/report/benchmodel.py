"""The benchmark part of the report's data model (pytest-benchmark JSON and bench/*.json)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.report.jsonread import dicts, floats, integer, num, obj, read_json, text

__all__ = [
    "BACKENDS",
    "AASamples",
    "BenchData",
    "Benchmark",
    "GateResult",
    "MemoryPoint",
    "OverheadRatio",
    "PairedSamples",
    "Regression",
    "RssPoint",
    "SweepPoint",
    "load_bench",
]

BACKENDS = ("azure", "s3")
IMPL_ALIASES = {"raw": "sdk", "": "crownsafe"}


@dataclass
class Benchmark:
    """One entry of pytest-benchmark's JSON. Identity comes from `extra_info`
    {"operation" (or "op"), "backend", "impl" ("crownsafe" | "sdk", "raw" meaning "sdk"),
    "size_bytes"}; raw samples from `stats.data` (run with --benchmark-save-data)."""

    name: str
    fullname: str
    group: str
    operation: str
    backend: str
    impl: str
    size_bytes: int | None
    samples_s: list[float]
    median_s: float
    mean_s: float
    stddev_s: float
    rounds: int

    @classmethod
    def from_json(cls, entry: dict[str, Any]) -> Benchmark:
        extra = obj(entry.get("extra_info"))
        params = obj(entry.get("params"))
        st = obj(entry.get("stats"))
        name = text(entry, "name", "?")
        backend = text(extra, "backend") or next(
            (b for b in BACKENDS if f"[{b}" in name or b in map(str, params.values())), "-"
        )
        size = num(extra, "size_bytes")
        samples = floats(st.get("data"))
        median = num(st, "median") or (sorted(samples)[len(samples) // 2] if samples else 0.0)
        return cls(
            name=name,
            fullname=text(entry, "fullname", name),
            group=text(entry, "group"),
            operation=text(extra, "operation") or text(extra, "op") or name.split("[")[0],
            backend=backend,
            impl=IMPL_ALIASES.get(text(extra, "impl"), text(extra, "impl", "crownsafe")),
            size_bytes=int(size) if size is not None else None,
            samples_s=samples,
            median_s=median,
            mean_s=num(st, "mean", median) or 0.0,
            stddev_s=num(st, "stddev", 0.0) or 0.0,
            rounds=integer(st, "rounds", len(samples)),
        )


@dataclass
class SweepPoint:
    """`bench/concurrency.json`: {"points": [{"backend", "operation", "size_bytes",
    "workers", "ops", "seconds", "ops_per_s", "mb_per_s"}]}."""

    backend: str
    operation: str
    size_bytes: int
    workers: int
    ops_per_s: float
    mb_per_s: float


@dataclass
class PairedSamples:
    """`bench/paired.json`: {"pairs": [{"operation", "size_bytes", "impl",
    "samples": {"azure": [s...], "s3": [s...]}}]}, Azure and S3 interleaved in one run."""

    operation: str
    size_bytes: int | None
    impl: str
    samples: dict[str, list[float]]


@dataclass
class AASamples:
    """`bench/aa.json`: {"runs": [{"backend", "operation", "size_bytes", "first_s": [...],
    "second_s": [...]}]}: the same operation measured twice, interleaved."""

    backend: str
    operation: str
    size_bytes: int | None
    first_s: list[float]
    second_s: list[float]


@dataclass
class RssPoint:
    """`bench/rss.json`: {"points": [{"backend", "operation", "size_bytes",
    "peak_rss_delta_bytes"}]}."""

    backend: str
    operation: str
    size_bytes: int
    peak_rss_delta_bytes: int

    @property
    def rss_mib_per_mib(self) -> float:
        return self.peak_rss_delta_bytes / self.size_bytes if self.size_bytes else 0.0


@dataclass
class OverheadRatio:
    """`bench/ratios.json` (benchmarks/test_bench_overhead.py via harness/overhead.py):
    {"comparisons": [{"backend", "operation", "size_bytes", "comparison", "candidate",
    "reference", "goal", "goal_source", "measured", "profile", "rounds", "warmup",
    "candidate_median_s", "reference_median_s", "ratio", "ci_low", "ci_high",
    "confidence", "aa", "aa_ratio", "noise_floor", "verdict", "reason", "candidate_s",
    "reference_s", "aa_first_s", "aa_second_s"}]}. ratio = candidate ops/s / reference
    ops/s, from one interleaved loop; verdict "met" / "not met" / "undecided"."""

    backend: str
    operation: str
    size_bytes: int
    comparison: str
    candidate: str
    reference: str
    goal: float
    goal_source: str
    measured: bool
    rounds: int
    candidate_median_s: float
    reference_median_s: float
    ratio: float
    ci_low: float
    ci_high: float
    aa_ratio: float
    noise_floor: float
    verdict: str
    reason: str

    @classmethod
    def from_json(cls, e: dict[str, Any]) -> OverheadRatio:
        ratio = num(e, "ratio", 0.0) or 0.0
        verdict = text(e, "verdict", "undecided")
        return cls(
            backend=text(e, "backend", "-"),
            operation=text(e, "operation", "?"),
            size_bytes=integer(e, "size_bytes"),
            comparison=text(e, "comparison", "?"),
            candidate=text(e, "candidate", "?"),
            reference=text(e, "reference", "?"),
            goal=num(e, "goal", 0.0) or 0.0,
            goal_source=text(e, "goal_source"),
            measured=e.get("measured") is True,
            rounds=integer(e, "rounds"),
            candidate_median_s=num(e, "candidate_median_s", 0.0) or 0.0,
            reference_median_s=num(e, "reference_median_s", 0.0) or 0.0,
            ratio=ratio,
            ci_low=num(e, "ci_low", ratio) or 0.0,
            ci_high=num(e, "ci_high", ratio) or 0.0,
            aa_ratio=num(e, "aa_ratio", 0.0) or 0.0,
            noise_floor=num(e, "noise_floor", 0.0) or 0.0,
            verdict=verdict if verdict in ("met", "not met") else "undecided",
            reason=text(e, "reason"),
        )


@dataclass
class MemoryPoint:
    """`bench/memory.json` (benchmarks/test_bench_overhead.py, measured by harness/memprobe.py
    in a fresh process): {"points": [{"backend", "operation", "impl", "source",
    "size_bytes", "baseline_rss_bytes", "peak_rss_bytes", "peak_rss_increase_bytes",
    "method", "goal_bytes", "measured", "profile", "verdict", "reason"}]}; the goal is an
    increase below `goal_bytes`."""

    backend: str
    operation: str
    size_bytes: int
    baseline_rss_bytes: int
    peak_rss_bytes: int
    peak_rss_increase_bytes: int
    goal_bytes: int
    method: str
    measured: bool
    verdict: str
    reason: str

    @classmethod
    def from_json(cls, p: dict[str, Any]) -> MemoryPoint:
        verdict = text(p, "verdict", "undecided")
        return cls(
            backend=text(p, "backend", "-"),
            operation=text(p, "operation", "upload"),
            size_bytes=integer(p, "size_bytes"),
            baseline_rss_bytes=integer(p, "baseline_rss_bytes"),
            peak_rss_bytes=integer(p, "peak_rss_bytes"),
            peak_rss_increase_bytes=integer(p, "peak_rss_increase_bytes"),
            goal_bytes=integer(p, "goal_bytes"),
            method=text(p, "method"),
            measured=p.get("measured") is True,
            verdict=verdict if verdict in ("met", "not met") else "undecided",
            reason=text(p, "reason"),
        )


@dataclass
class Regression:
    name: str
    baseline_median_s: float
    median_s: float
    ratio: float
    reason: str = ""


@dataclass
class GateResult:
    """`bench/gate.json` (harness.bench): {"baseline", "threshold", "noise_floor",
    "passed", "compared", "regressions": [{"name", "baseline_median_s", "median_s",
    "ratio", "reason"}]}."""

    baseline: str
    threshold: float
    noise_floor: float
    passed: bool
    compared: int
    regressions: list[Regression]


@dataclass
class BenchData:
    benchmarks: list[Benchmark] = field(default_factory=list)
    machine_info: dict[str, Any] = field(default_factory=dict)
    sweep: list[SweepPoint] = field(default_factory=list)
    paired: list[PairedSamples] = field(default_factory=list)
    aa: list[AASamples] = field(default_factory=list)
    rss: list[RssPoint] = field(default_factory=list)
    ratios: list[OverheadRatio] = field(default_factory=list)
    memory: list[MemoryPoint] = field(default_factory=list)
    gate: GateResult | None = None

    def empty(self) -> bool:
        return not (
            self.benchmarks
            or self.sweep
            or self.paired
            or self.aa
            or self.rss
            or self.ratios
            or self.memory
        )


def load_bench(root: Path, problems: list[str]) -> BenchData:
    """Every benchmark file of the run folder `root` (see each class for its schema)."""
    bench = BenchData()
    data = read_json(root, "benchmarks.json", problems)
    if isinstance(data, dict):
        bench.benchmarks = [Benchmark.from_json(b) for b in dicts(data.get("benchmarks"))]
        if isinstance(data.get("machine_info"), dict):
            bench.machine_info = data["machine_info"]
    sweep = read_json(root, "bench/concurrency.json", problems)
    bench.sweep = [
        SweepPoint(
            text(p, "backend", "-"),
            text(p, "operation", "?"),
            integer(p, "size_bytes"),
            integer(p, "workers", 1),
            num(p, "ops_per_s", 0.0) or 0.0,
            num(p, "mb_per_s", 0.0) or 0.0,
        )
        for p in dicts(sweep.get("points") if isinstance(sweep, dict) else None)
    ]
    paired = read_json(root, "bench/paired.json", problems)
    for p in dicts(paired.get("pairs") if isinstance(paired, dict) else None):
        raw = obj(p.get("samples"))
        size = num(p, "size_bytes")
        bench.paired.append(
            PairedSamples(
                text(p, "operation", "?"),
                int(size) if size is not None else None,
                text(p, "impl", "crownsafe"),
                {str(k): floats(v) for k, v in raw.items()},
            )
        )
    aa = read_json(root, "bench/aa.json", problems)
    for r in dicts(aa.get("runs") if isinstance(aa, dict) else None):
        size = num(r, "size_bytes")
        bench.aa.append(
            AASamples(
                text(r, "backend", "-"),
                text(r, "operation", "?"),
                int(size) if size is not None else None,
                floats(r.get("first_s")),
                floats(r.get("second_s")),
            )
        )
    rss = read_json(root, "bench/rss.json", problems)
    bench.rss = [
        RssPoint(
            text(p, "backend", "-"),
            text(p, "operation", "?"),
            integer(p, "size_bytes"),
            integer(p, "peak_rss_delta_bytes"),
        )
        for p in dicts(rss.get("points") if isinstance(rss, dict) else None)
    ]
    ratios = read_json(root, "bench/ratios.json", problems)
    bench.ratios = [
        OverheadRatio.from_json(e)
        for e in dicts(ratios.get("comparisons") if isinstance(ratios, dict) else None)
    ]
    memory = read_json(root, "bench/memory.json", problems)
    bench.memory = [
        MemoryPoint.from_json(p)
        for p in dicts(memory.get("points") if isinstance(memory, dict) else None)
    ]
    gate = read_json(root, "bench/gate.json", problems)
    if isinstance(gate, dict):
        bench.gate = GateResult(
            baseline=text(gate, "baseline"),
            threshold=num(gate, "threshold", 0.0) or 0.0,
            noise_floor=num(gate, "noise_floor", 0.0) or 0.0,
            passed=gate.get("passed") is not False,
            compared=integer(gate, "compared"),
            regressions=[
                Regression(
                    text(r, "name", "?"),
                    num(r, "baseline_median_s", 0.0) or 0.0,
                    num(r, "median_s", 0.0) or 0.0,
                    num(r, "ratio", 0.0) or 0.0,
                    text(r, "reason"),
                )
                for r in dicts(gate.get("regressions"))
            ],
        )
    return bench
