"""What the report says: verdict, statistics, seed table and comparisons, from a `Run`.

Pure functions of the data model (no HTML here). Benchmark samples for an operation
come from the paired, interleaved samples (`bench/paired.json`) when present, else from
pytest-benchmark's raw data; the noise floor comes from the A/A runs (`bench/aa.json`),
else an assumed default that the report labels as such.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from harness.bench import stats
from harness.bench.gate import DEFAULT_NOISE_FLOOR, find_regressions
from harness.report.benchmodel import MemoryPoint, OverheadRatio
from harness.report.model import BACKENDS, Run

__all__ = [
    "OP_LABELS",
    "SEED_ROWS",
    "BaselineRow",
    "OpStats",
    "SampleSet",
    "SeedRow",
    "Verdict",
    "aa_floors",
    "baseline_rows",
    "comparison_label",
    "goal_findings",
    "memory_label",
    "noise_floor_for",
    "op_keys",
    "op_label",
    "op_stats",
    "ordered_ratios",
    "ratio_label",
    "row_label",
    "samples_for",
    "size_label",
    "verdict",
]

KIB, MIB = 1024, 1024 * 1024
OP_LABELS = {
    "upload": "Upload",
    "download": "Download",
    "sas": "Generate URL",
    "list_100": "List 100 blobs",
    "head": "Head",
    "delete": "Delete",
}
OP_ORDER = list(OP_LABELS)


@dataclass(frozen=True)
class SeedRow:
    label: str
    operation: str
    size_bytes: int | None
    s3_ms: float
    azure_ms: float
    claim: str


SEED_ROWS = (
    SeedRow("Upload 1MB", "upload", MIB, 150, 120, "20% faster"),
    SeedRow("Download 1MB", "download", MIB, 100, 90, "10% faster"),
    SeedRow("Generate URL", "sas", None, 5, 3, "40% faster"),
    SeedRow("List 100 blobs", "list_100", None, 80, 70, "13% faster"),
)


def size_label(size: int | None) -> str:
    if size is None:
        return ""
    for unit, scale in (("GiB", 1024 * MIB), ("MiB", MIB), ("KiB", KIB)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} B"


def op_label(operation: str, size: int | None) -> str:
    name = OP_LABELS.get(operation, operation)
    return f"{name} {size_label(size)}".strip()


@dataclass(frozen=True)
class SampleSet:
    samples: list[float]
    source: str

    @property
    def has_spread(self) -> bool:
        return len(self.samples) >= 2


def samples_for(
    run: Run, operation: str, size: int | None, backend: str, impl: str = "crownsafe"
) -> SampleSet | None:
    """Paired samples first; else the pytest-benchmark entry with the most raw samples."""
    for pair in run.bench.paired:
        got = pair.samples.get(backend)
        if (pair.operation, pair.size_bytes, pair.impl) == (operation, size, impl) and got:
            return SampleSet(got, "paired, interleaved")
    matches = [
        b
        for b in run.bench.benchmarks
        if (b.operation, b.size_bytes, b.backend, b.impl) == (operation, size, backend, impl)
    ]
    if not matches:
        return None
    best = max(matches, key=lambda b: len(b.samples_s))
    if best.samples_s:
        return SampleSet(best.samples_s, "pytest-benchmark")
    return SampleSet([best.median_s], "pytest-benchmark median only") if best.median_s else None


def op_keys(run: Run, impl: str = "crownsafe") -> list[tuple[str, int | None]]:
    """Every (operation, size) measured, in the seed's order then by size."""
    keys = {(p.operation, p.size_bytes) for p in run.bench.paired if p.impl == impl}
    keys |= {(b.operation, b.size_bytes) for b in run.bench.benchmarks if b.impl == impl}
    order = {op: i for i, op in enumerate(OP_ORDER)}
    return sorted(keys, key=lambda k: (order.get(k[0], len(order)), k[0], k[1] or 0))


def aa_floors(run: Run) -> dict[tuple[str, int | None], float]:
    """The A/A noise floor per (operation, size): the largest over its A/A runs."""
    floors: dict[tuple[str, int | None], float] = {}
    for a in run.bench.aa:
        if len(a.first_s) >= 2 and len(a.second_s) >= 2:
            key = (a.operation, a.size_bytes)
            floors[key] = max(floors.get(key, 0.0), stats.noise_floor(a.first_s, a.second_s))
    return floors


def noise_floor_for(
    floors: dict[tuple[str, int | None], float], operation: str, size: int | None
) -> tuple[float, str]:
    """(floor, where it came from): this operation's A/A runs, else all A/A, else assumed."""
    if (operation, size) in floors:
        return floors[operation, size], "A/A of this operation"
    if floors:
        return max(floors.values()), "largest A/A in run"
    return DEFAULT_NOISE_FLOOR, "assumed (no A/A data in this run)"


@dataclass
class OpStats:
    operation: str
    size_bytes: int | None
    label: str
    median: dict[str, stats.Estimate] = field(default_factory=dict)
    pct: dict[str, stats.Percentiles] = field(default_factory=dict)
    source: dict[str, str] = field(default_factory=dict)
    comparison: stats.Comparison | None = None
    noise_floor: float = DEFAULT_NOISE_FLOOR
    noise_source: str = ""

    @property
    def finding(self) -> str:
        if self.comparison is None:
            return "not compared (needs samples from both backends)"
        if self.comparison.verdict == "same":
            return "no difference called"
        faster = "Azure" if self.comparison.verdict == "faster" else "S3"
        return f"{faster} faster"


def op_stats(run: Run) -> list[OpStats]:
    """Per operation: median + CI and percentiles per backend, and Azure vs S3."""
    rows = []
    floors = aa_floors(run)
    for operation, size in op_keys(run):
        row = OpStats(operation, size, op_label(operation, size))
        row.noise_floor, row.noise_source = noise_floor_for(floors, operation, size)
        got: dict[str, SampleSet] = {}
        for backend in BACKENDS:
            sample = samples_for(run, operation, size, backend)
            if sample is None:
                continue
            got[backend] = sample
            row.median[backend] = stats.median_ci(sample.samples)
            row.pct[backend] = stats.percentiles(sample.samples)
            row.source[backend] = sample.source
        if all(b in got and got[b].has_spread for b in BACKENDS):
            a, s = got["azure"].samples, got["s3"].samples
            paired = got["azure"].source.startswith("paired") and len(a) == len(s)
            row.comparison = stats.compare(a, s, row.noise_floor, paired=paired)
        rows.append(row)
    return rows


BACKEND_NAMES = {"azure": "Azure", "s3": "S3"}
COMPARISON_LABELS = {
    "crownsafe_vs_raw": "crownsafe / raw SDK",
    "resilient_vs_bare": "resilient / bare client",
}


def comparison_label(r: OverheadRatio) -> str:
    """e.g. "crownsafe / raw SDK"."""
    return COMPARISON_LABELS.get(r.comparison, f"{r.candidate} / {r.reference}")


def row_label(r: OverheadRatio) -> str:
    """e.g. "Azure Upload 1 KiB"."""
    return f"{BACKEND_NAMES.get(r.backend, r.backend)} {op_label(r.operation, r.size_bytes)}"


def ratio_label(r: OverheadRatio) -> str:
    """e.g. "Azure Upload 1 KiB: crownsafe / raw SDK"."""
    return f"{row_label(r)}: {comparison_label(r)}"


def memory_label(p: MemoryPoint) -> str:
    return f"{BACKEND_NAMES.get(p.backend, p.backend)} {op_label(p.operation, p.size_bytes)}"


def ordered_ratios(run: Run) -> list[OverheadRatio]:
    """bench/ratios.json entries: crownsafe vs SDK first, then by backend, op and size."""
    order = {name: i for i, name in enumerate(COMPARISON_LABELS)}
    return sorted(
        run.bench.ratios,
        key=lambda r: (order.get(r.comparison, len(order)), r.backend, r.operation, r.size_bytes),
    )


def goal_findings(run: Run) -> tuple[list[str], list[str]]:
    """(reasons the run is not ready, notes): measured goals not met, and left undecided.
    The verdicts are the benchmark's (rules in harness/overhead.py)."""
    reasons: list[str] = []
    notes: list[str] = []
    for r in ordered_ratios(run):
        what = f"performance goal {ratio_label(r)} >= {r.goal:g}x"
        if r.measured and r.verdict == "not met":
            reasons.append(f"{what} not met: {r.reason}")
        elif r.measured and r.verdict == "undecided":
            notes.append(f"{what} undecided: {r.reason}")
    for p in run.bench.memory:
        what = f"memory goal for a streamed {memory_label(p)}"
        if p.measured and p.verdict == "not met":
            reasons.append(f"{what} not met: {p.reason}")
        elif p.measured and p.verdict == "undecided":
            notes.append(f"{what} undecided: {p.reason}")
    return reasons, notes


@dataclass(frozen=True)
class BaselineRow:
    name: str
    baseline_median_s: float
    median_s: float
    comparison: stats.Comparison | None
    regression: bool


def baseline_rows(run: Run, baseline: Run, threshold: float = 0.10) -> list[BaselineRow]:
    """Every benchmark in both runs: ratio to the baseline and whether it regressed."""

    def by_name(r: Run) -> dict[str, list[float]]:
        return {
            b.fullname: b.samples_s or [b.median_s]
            for b in r.bench.benchmarks
            if b.samples_s or b.median_s
        }

    current, base = by_name(run), by_name(baseline)
    floor = max(aa_floors(run).values(), default=DEFAULT_NOISE_FLOOR)
    gate = find_regressions(current, base, threshold=threshold, noise_floor=floor)
    regressed = {r.name for r in gate.regressions}
    rows = []
    for name in sorted(set(current) & set(base)):
        cur, old = current[name], base[name]
        cmp = stats.compare(cur, old, floor) if len(cur) >= 2 and len(old) >= 2 else None
        rows.append(
            BaselineRow(name, float(np.median(old)), float(np.median(cur)), cmp, name in regressed)
        )
    return rows


def _walk(obj: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from _walk(value, f"{path}.{key}" if path else str(key))
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            yield from _walk(value, f"{path}[{i}]")
    else:
        yield path, obj


def _migration_problems(data: dict[str, Any]) -> list[str]:
    problems = []
    for path, value in _walk(data):
        leaf = path.rsplit(".", 1)[-1]
        if (
            leaf in {"mismatches", "lost", "missing", "corrupted", "rows_pointing_at_s3"}
            and isinstance(value, int | float)
            and value > 0
        ):
            problems.append(f"migration: {path} = {value}")
        if (
            leaf in {"checksums_equal", "resume_worked", "retry_succeeded", "copied_once", "passed"}
            and value is False
        ):
            problems.append(f"migration: {path} is false")
    return problems


@dataclass
class Verdict:
    ready: bool
    reasons: list[str]
    notes: list[str]


def verdict(run: Run, baseline: list[BaselineRow] | None = None) -> Verdict:
    """Ready only when something ran and nothing failed, lost, mismatched or regressed."""
    reasons: list[str] = []
    notes = list(run.problems)
    for suite in run.suites:
        for backend in suite.backends():
            failed = suite.counts(backend)["failed"]
            if failed:
                where = f" [{backend}]" if backend != "-" else ""
                reasons.append(f"{failed} failed test(s) in suite {suite.name}{where}")
        skipped = suite.counts()["skipped"]
        if skipped:
            notes.append(f"{skipped} skipped test(s) in suite {suite.name}")
    res = run.resilience
    if res is not None:
        if res.lost:
            reasons.append(f"{res.lost} acknowledged upload(s) lost or corrupted under faults")
        most, bound = res.summary.get("max_attempts_per_call"), res.summary.get("attempts_bound")
        if isinstance(most, int) and isinstance(bound, int) and bound and most > bound:
            reasons.append(f"a call made {most} HTTP attempts under faults (bound {bound})")
        reasons += [
            f"resilience check failed: {c.name} [{c.backend}]" for c in res.checks if not c.passed
        ]
    else:
        notes.append("no resilience results in this run")
    if run.migration is not None:
        reasons += _migration_problems(run.migration)
    else:
        notes.append("no migration results in this run")
    goal_reasons, goal_notes = goal_findings(run)
    reasons += goal_reasons
    notes += goal_notes
    gate = run.bench.gate
    if gate is not None and not gate.passed:
        names = ", ".join(r.name for r in gate.regressions) or "see bench/gate.json"
        reasons.append(f"benchmark regression gate failed: {names}")
    for row in baseline or []:
        if row.regression:
            reasons.append(f"regression against the baseline: {row.name}")
    if run.load is not None:
        reasons += [
            f"load SLO missed: {s.name} ({s.detail})" for s in run.load.slos if not s.passed
        ]
    for area, checks in run.checks.items():
        reasons += [f"{area} check failed: {c.name}" for c in checks if not c.passed]
    if run.bench.empty():
        notes.append("no benchmark data in this run")
    if not run.suites and run.bench.empty() and run.resilience is None and run.migration is None:
        reasons.append("nothing ran: the run folder holds no suite, benchmark or summary results")
    return Verdict(ready=not reasons, reasons=reasons, notes=notes)
