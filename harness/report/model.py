"""The report's data model: plain dataclasses loaded from one run folder.

The run-folder layout is documented in `harness/rundir.py`; the schema of each file is
in the docstring of the class that holds it (benchmark files: `benchmodel.py`). The
loader tolerates anything missing: an absent file is an absent section (None or empty),
unknown keys are ignored, a field of the wrong type falls back to its default, and an
unreadable file is recorded in `Run.problems` instead of raising, so a partial run still
renders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.report.benchmodel import BACKENDS, BenchData, load_bench
from harness.report.jsonread import dicts, integer, num, obj, read_json, text

__all__ = [
    "BACKENDS",
    "BenchData",
    "Check",
    "LoadEndpoint",
    "LoadResult",
    "ResilienceCell",
    "ResilienceResult",
    "Run",
    "ServiceTiming",
    "SuiteResult",
    "TestResult",
    "load_run",
]

FAILED_OUTCOMES = frozenset({"failed", "error"})


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
                nodeid=text(t, "nodeid", "?"),
                backend=text(t, "backend") or None,
                outcome=text(t, "outcome", "unknown").lower(),
                duration_s=num(t, "duration_s", 0.0) or 0.0,
                message=text(t, "message"),
            )
            for t in dicts(data.get("tests") if isinstance(data, dict) else None)
        ]
        return cls(name=text(data, "suite", default_name) or default_name, tests=tests)

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
class Check:
    name: str
    passed: bool
    detail: str = ""
    backend: str = ""


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
    """`resilience.json` (written by harness/faults/summary.py): {"summary": {"faults",
    "operations", "calls", "attempts", "recovered", "failed", "lost",
    "max_attempts_per_call", "attempts_bound", ...}, "cells": [{"fault", "operation",
    "backend", "calls", "attempts", "recovered", "failed", "lost", ...}], "checks":
    [{"name", "backend", "passed", "detail"}]}. A cell may give "outcome"
    ("ok"/"recovered"/"failed"/"lost") instead of counts."""

    summary: dict[str, Any]
    cells: list[ResilienceCell]
    checks: list[Check] = field(default_factory=list)

    @property
    def lost(self) -> int:
        counted = sum(c.lost for c in self.cells)
        return max(counted, integer(self.summary, "lost", 0))


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


def _checks(data: Any) -> list[Check]:
    return [
        Check(
            name=text(c, "name", "?"),
            passed=c.get("passed") is True or text(c, "outcome").lower() == "passed",
            detail=text(c, "detail") or text(c, "observed") or text(c, "message"),
            backend=text(c, "backend"),
        )
        for c in dicts(data)
    ]


def _resilience_cell(c: dict[str, Any]) -> ResilienceCell:
    outcome = text(c, "outcome").lower()
    calls = integer(c, "calls", 1 if outcome else 0)
    return ResilienceCell(
        fault=text(c, "fault", "?"),
        operation=text(c, "operation", "?"),
        backend=text(c, "backend", "-"),
        calls=calls,
        attempts=integer(c, "attempts", calls),
        recovered=integer(c, "recovered", int(outcome == "recovered")),
        failed=integer(c, "failed", int(outcome == "failed")),
        lost=integer(c, "lost", int(outcome == "lost")),
    )


def load_run(path: Path) -> Run:
    """Load every section present in the run folder `path`."""
    run = Run(path=Path(path))
    if not run.path.is_dir():
        run.problems.append(f"{path}: not a folder")
        return run
    env = read_json(run.path, "environment.json", run.problems)
    run.environment = env if isinstance(env, dict) else {}
    services = read_json(run.path, "services.json", run.problems)
    if isinstance(services, dict):
        run.services = [
            ServiceTiming(text(s, "name", "?"), text(s, "mode", "-"), num(s, "ready_s"))
            for s in dicts(services.get("services"))
        ]
        run.parallel_ready_s = num(services, "parallel_ready_s")
    suites_dir = run.path / "suites"
    for suite_file in sorted(suites_dir.glob("*.json")) if suites_dir.is_dir() else []:
        data = read_json(run.path, f"suites/{suite_file.name}", run.problems)
        if data is not None:
            run.suites.append(SuiteResult.from_json(data, suite_file.stem))
    run.bench = load_bench(run.path, run.problems)
    res = read_json(run.path, "resilience.json", run.problems)
    if isinstance(res, dict):
        cells = dicts(res.get("cells", res.get("matrix")))
        summary = obj(res.get("summary"))
        run.resilience = ResilienceResult(
            summary, [_resilience_cell(c) for c in cells], _checks(res.get("checks"))
        )
    mig = read_json(run.path, "migration.json", run.problems)
    run.migration = mig if isinstance(mig, dict) else None
    load = read_json(run.path, "load.json", run.problems)
    if isinstance(load, dict):
        run.load = LoadResult(
            info={k: v for k, v in load.items() if not isinstance(v, list | dict)},
            endpoints=[
                LoadEndpoint(
                    text(e, "name", "?"),
                    text(e, "backend"),
                    integer(e, "requests"),
                    integer(e, "failures"),
                    num(e, "rps", 0.0) or 0.0,
                    num(e, "p50_ms"),
                    num(e, "p95_ms"),
                    num(e, "p99_ms"),
                )
                for e in dicts(load.get("endpoints"))
            ],
            slos=_checks(load.get("slos")),
        )
    for name in ("api", "security"):
        data = read_json(run.path, f"{name}.json", run.problems)
        if isinstance(data, dict):
            run.checks[name] = _checks(data.get("checks"))
    return run
