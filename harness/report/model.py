"""The report's data model: plain dataclasses loaded from one run folder.

The run-folder layout is documented in `harness/rundir.py`; the schema of each file is
the `from_json` of the class that reads it. The loader tolerates anything missing: an
absent file is an absent section (None or empty), unknown keys are ignored, a field of
the wrong type falls back to its default, and an unreadable file is recorded in
`Run.problems` instead of raising, so a partial run still renders.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "AASamples",
    "BenchData",
    "Benchmark",
    "Check",
    "GateResult",
    "LoadEndpoint",
    "LoadResult",
    "PairedSamples",
    "Regression",
    "ResilienceCell",
    "ResilienceResult",
    "RssPoint",
    "Run",
    "ServiceTiming",
    "SuiteResult",
    "SweepPoint",
    "TestResult",
    "load_run",
]

BACKENDS = ("azure", "s3")
FAILED_OUTCOMES = frozenset({"failed", "error"})


def _f(obj: Any, key: str, default: float | None = None) -> float | None:
    value = obj.get(key, default) if isinstance(obj, dict) else default
    if isinstance(value, bool):
        return float(value)
    return float(value) if isinstance(value, int | float) else default


def _i(obj: Any, key: str, default: int = 0) -> int:
    value = _f(obj, key)
    return int(value) if value is not None else default


def _s(obj: Any, key: str, default: str = "") -> str:
    value = obj.get(key) if isinstance(obj, dict) else None
    return str(value) if value is not None else default


def _floats(value: Any) -> list[float]:
    if not isinstance(value, list):
        return []
    return [float(v) for v in value if isinstance(v, int | float) and not isinstance(v, bool)]


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


@dataclass
class TestResult:
    nodeid: str
    backend: str | None
    outcome: str
    duration_s: float = 0.0
    message: str = ""


@dataclass
class SuiteResult:
    """`suites/<suite>.json`: {"suite", "tests": [{"nodeid", "backend", "outcome",
    "duration_s", "message"}]}; outcome is pytest's (passed/failed/skipped/error/...)."""

    name: str
    tests: list[TestResult] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: Any, default_name: str) -> SuiteResult:
        tests = [
            TestResult(
                nodeid=_s(t, "nodeid", "?"),
                backend=_s(t, "backend") or None,
                outcome=_s(t, "outcome", "unknown").lower(),
                duration_s=_f(t, "duration_s", 0.0) or 0.0,
                message=_s(t, "message"),
            )
            for t in _dicts(data.get("tests") if isinstance(data, dict) else None)
        ]
        return cls(name=_s(data, "suite", default_name) or default_name, tests=tests)

    def backends(self) -> list[str]:
        return sorted({t.backend or "-" for t in self.tests})

    def counts(self, backend: str | None = None) -> dict[str, int]:
        counts = {"passed": 0, "failed": 0, "skipped": 0, "other": 0}
        for t in self.tests:
            if backend is not None and (t.backend or "-") != backend:
                continue
            key = "failed" if t.outcome in FAILED_OUTCOMES else t.outcome
            counts[key if key in counts else "other"] += 1
        return counts

    def failures(self) -> list[TestResult]:
        return [t for t in self.tests if t.outcome in FAILED_OUTCOMES]


@dataclass
class ServiceTiming:
    name: str
    mode: str
    ready_s: float | None


@dataclass
class Benchmark:
    """One entry of pytest-benchmark's JSON. Identity comes from `extra_info`
    {"operation", "backend", "impl" ("crownsafe"|"sdk"), "size_bytes"}; raw samples from
    `stats.data` (run with --benchmark-save-data)."""

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
        extra = _obj(entry.get("extra_info"))
        params = _obj(entry.get("params"))
        st = _obj(entry.get("stats"))
        name = _s(entry, "name", "?")
        backend = _s(extra, "backend") or next(
            (b for b in BACKENDS if f"[{b}" in name or b in map(str, params.values())), "-"
        )
        size = _f(extra, "size_bytes")
        samples = _floats(st.get("data"))
        median = _f(st, "median") or (sorted(samples)[len(samples) // 2] if samples else 0.0)
        return cls(
            name=name,
            fullname=_s(entry, "fullname", name),
            group=_s(entry, "group"),
            operation=_s(extra, "operation") or _s(entry, "group") or name.split("[")[0],
            backend=backend,
            impl=_s(extra, "impl", "crownsafe"),
            size_bytes=int(size) if size is not None else None,
            samples_s=samples,
            median_s=median,
            mean_s=_f(st, "mean", median) or 0.0,
            stddev_s=_f(st, "stddev", 0.0) or 0.0,
            rounds=_i(st, "rounds", len(samples)),
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
    gate: GateResult | None = None

    def empty(self) -> bool:
        return not (self.benchmarks or self.sweep or self.paired or self.aa or self.rss)


@dataclass
class ResilienceCell:
    """One fault x operation x backend cell: calls made, HTTP attempts, calls that
    succeeded after a retry (recovered), raised a typed error (failed), lost data."""

    fault: str
    operation: str
    backend: str
    calls: int
    attempts: int
    recovered: int
    failed: int
    lost: int

    @property
    def outcome(self) -> str:
        if self.lost:
            return "lost"
        if self.failed:
            return "failed"
        return "recovered" if self.recovered else "ok"


@dataclass
class ResilienceResult:
    """`resilience.json`: {"summary": {"faults", "operations", "calls", "attempts",
    "recovered", "failed", "lost"}, "cells": [{"fault", "operation", "backend", "calls",
    "attempts", "recovered", "failed", "lost"}]}. A cell may give "outcome"
    ("ok"/"recovered"/"failed"/"lost") instead of counts."""

    summary: dict[str, Any]
    cells: list[ResilienceCell]

    @property
    def lost(self) -> int:
        counted = sum(c.lost for c in self.cells)
        return max(counted, _i(self.summary, "lost", 0))


@dataclass
class LoadEndpoint:
    name: str
    backend: str
    requests: int
    failures: int
    rps: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


@dataclass
class Check:
    name: str
    passed: bool
    detail: str = ""
    backend: str = ""


@dataclass
class LoadResult:
    """`load.json`: {"tool", "users", "duration_s", "endpoints": [{"name", "backend",
    "requests", "failures", "rps", "p50_ms", "p95_ms", "p99_ms"}], "slos": [{"name",
    "passed", "detail"}]}."""

    info: dict[str, Any]
    endpoints: list[LoadEndpoint]
    slos: list[Check]


@dataclass
class Run:
    """Everything one run folder holds (every section optional)."""

    path: Path
    environment: dict[str, Any] = field(default_factory=dict)
    services: list[ServiceTiming] = field(default_factory=list)
    parallel_ready_s: float | None = None
    suites: list[SuiteResult] = field(default_factory=list)
    bench: BenchData = field(default_factory=BenchData)
    resilience: ResilienceResult | None = None
    migration: dict[str, Any] | None = None
    load: LoadResult | None = None
    checks: dict[str, list[Check]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _read(run: Run, relative: str) -> Any:
    path = run.path / relative
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        run.problems.append(f"{relative}: unreadable ({exc}); section left out")
        return None


def _checks(data: Any) -> list[Check]:
    return [
        Check(
            name=_s(c, "name", "?"),
            passed=c.get("passed") is True or _s(c, "outcome").lower() == "passed",
            detail=_s(c, "detail") or _s(c, "observed") or _s(c, "message"),
            backend=_s(c, "backend"),
        )
        for c in _dicts(data)
    ]


def _load_bench(run: Run) -> BenchData:
    bench = BenchData()
    data = _read(run, "benchmarks.json")
    if isinstance(data, dict):
        bench.benchmarks = [Benchmark.from_json(b) for b in _dicts(data.get("benchmarks"))]
        if isinstance(data.get("machine_info"), dict):
            bench.machine_info = data["machine_info"]
    sweep = _read(run, "bench/concurrency.json")
    bench.sweep = [
        SweepPoint(
            _s(p, "backend", "-"),
            _s(p, "operation", "?"),
            _i(p, "size_bytes"),
            _i(p, "workers", 1),
            _f(p, "ops_per_s", 0.0) or 0.0,
            _f(p, "mb_per_s", 0.0) or 0.0,
        )
        for p in _dicts(sweep.get("points") if isinstance(sweep, dict) else None)
    ]
    paired = _read(run, "bench/paired.json")
    for p in _dicts(paired.get("pairs") if isinstance(paired, dict) else None):
        raw = _obj(p.get("samples"))
        size = _f(p, "size_bytes")
        bench.paired.append(
            PairedSamples(
                _s(p, "operation", "?"),
                int(size) if size is not None else None,
                _s(p, "impl", "crownsafe"),
                {str(k): _floats(v) for k, v in raw.items()},
            )
        )
    aa = _read(run, "bench/aa.json")
    for r in _dicts(aa.get("runs") if isinstance(aa, dict) else None):
        size = _f(r, "size_bytes")
        bench.aa.append(
            AASamples(
                _s(r, "backend", "-"),
                _s(r, "operation", "?"),
                int(size) if size is not None else None,
                _floats(r.get("first_s")),
                _floats(r.get("second_s")),
            )
        )
    rss = _read(run, "bench/rss.json")
    bench.rss = [
        RssPoint(
            _s(p, "backend", "-"),
            _s(p, "operation", "?"),
            _i(p, "size_bytes"),
            _i(p, "peak_rss_delta_bytes"),
        )
        for p in _dicts(rss.get("points") if isinstance(rss, dict) else None)
    ]
    gate = _read(run, "bench/gate.json")
    if isinstance(gate, dict):
        bench.gate = GateResult(
            baseline=_s(gate, "baseline"),
            threshold=_f(gate, "threshold", 0.0) or 0.0,
            noise_floor=_f(gate, "noise_floor", 0.0) or 0.0,
            passed=gate.get("passed") is not False,
            compared=_i(gate, "compared"),
            regressions=[
                Regression(
                    _s(r, "name", "?"),
                    _f(r, "baseline_median_s", 0.0) or 0.0,
                    _f(r, "median_s", 0.0) or 0.0,
                    _f(r, "ratio", 0.0) or 0.0,
                    _s(r, "reason"),
                )
                for r in _dicts(gate.get("regressions"))
            ],
        )
    return bench


def _resilience_cell(c: dict[str, Any]) -> ResilienceCell:
    outcome = _s(c, "outcome").lower()
    calls = _i(c, "calls", 1 if outcome else 0)
    return ResilienceCell(
        fault=_s(c, "fault", "?"),
        operation=_s(c, "operation", "?"),
        backend=_s(c, "backend", "-"),
        calls=calls,
        attempts=_i(c, "attempts", calls),
        recovered=_i(c, "recovered", int(outcome == "recovered")),
        failed=_i(c, "failed", int(outcome == "failed")),
        lost=_i(c, "lost", int(outcome == "lost")),
    )


def load_run(path: Path) -> Run:
    """Load every section present in the run folder `path`."""
    run = Run(path=Path(path))
    if not run.path.is_dir():
        run.problems.append(f"{path}: not a folder")
        return run
    env = _read(run, "environment.json")
    run.environment = env if isinstance(env, dict) else {}
    services = _read(run, "services.json")
    if isinstance(services, dict):
        run.services = [
            ServiceTiming(_s(s, "name", "?"), _s(s, "mode", "-"), _f(s, "ready_s"))
            for s in _dicts(services.get("services"))
        ]
        run.parallel_ready_s = _f(services, "parallel_ready_s")
    suites_dir = run.path / "suites"
    for suite_file in sorted(suites_dir.glob("*.json")) if suites_dir.is_dir() else []:
        data = _read(run, f"suites/{suite_file.name}")
        if data is not None:
            run.suites.append(SuiteResult.from_json(data, suite_file.stem))
    run.bench = _load_bench(run)
    res = _read(run, "resilience.json")
    if isinstance(res, dict):
        cells = _dicts(res.get("cells", res.get("matrix")))
        summary = _obj(res.get("summary"))
        run.resilience = ResilienceResult(summary, [_resilience_cell(c) for c in cells])
    mig = _read(run, "migration.json")
    run.migration = mig if isinstance(mig, dict) else None
    load = _read(run, "load.json")
    if isinstance(load, dict):
        run.load = LoadResult(
            info={k: v for k, v in load.items() if not isinstance(v, list | dict)},
            endpoints=[
                LoadEndpoint(
                    _s(e, "name", "?"),
                    _s(e, "backend"),
                    _i(e, "requests"),
                    _i(e, "failures"),
                    _f(e, "rps", 0.0) or 0.0,
                    _f(e, "p50_ms"),
                    _f(e, "p95_ms"),
                    _f(e, "p99_ms"),
                )
                for e in _dicts(load.get("endpoints"))
            ],
            slos=_checks(load.get("slos")),
        )
    for name in ("api", "security"):
        data = _read(run, f"{name}.json")
        if isinstance(data, dict):
            run.checks[name] = _checks(data.get("checks"))
    return run
