"""analyse(ReportInput) -> Findings: every number and verdict of the report, computed once.

Pure functions of the loaded run (no HTML here). Benchmark samples for an operation come
from the paired, interleaved samples (`bench/paired.json`) when present, else from
pytest-benchmark's raw data; the noise floor comes from the A/A runs (`bench/aa.json`),
else an assumed default that the report labels as such.
"""

from __future__ import annotations

import numpy as np

from harness.bench import cost, stats
from harness.bench.gate import DEFAULT_NOISE_FLOOR, find_regressions
from harness.report.assessment import assess
from harness.report.findings import (
    BaselineRow,
    CostFindings,
    Findings,
    OpStats,
    Outcome,
    RegressionLine,
    SampleSet,
    Sweep,
    Verdict,
)
from harness.report.inputs import ReportInput
from harness.report.labels import (
    BACKENDS,
    COMPARISON_LABELS,
    OP_ORDER,
    memory_label,
    op_label,
    ratio_label,
)
from harness.report.loadfindings import LoadRunFindings, load_findings
from harness.report.profile import RunProfile, read_run_profile
from harness.runfolder import RunData
from harness.runfolder.bench import ApiBenchResult, OverheadRatio, SweepPoint

__all__ = [
    "aa_floors",
    "analyse",
    "baseline_rows",
    "goal_findings",
    "noise_floor_for",
    "op_keys",
    "op_stats",
    "ordered_ratios",
    "samples_for",
    "verdict",
]

Floors = dict[tuple[str, int | None], float]


def samples_for(
    run: RunData, operation: str, size: int | None, backend: str, impl: str = "crownsafe"
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


def op_keys(run: RunData, impl: str = "crownsafe") -> list[tuple[str, int | None]]:
    """Every (operation, size) measured, in the seed's order then by size."""
    keys = {(p.operation, p.size_bytes) for p in run.bench.paired if p.impl == impl}
    keys |= {(b.operation, b.size_bytes) for b in run.bench.benchmarks if b.impl == impl}
    order = {op: i for i, op in enumerate(OP_ORDER)}
    return sorted(keys, key=lambda k: (order.get(k[0], len(order)), k[0], k[1] or 0))


def aa_floors(run: RunData) -> Floors:
    """The A/A noise floor per (operation, size): the largest over its A/A runs."""
    floors: Floors = {}
    for a in run.bench.aa:
        if len(a.first_s) >= 2 and len(a.second_s) >= 2:
            key = (a.operation, a.size_bytes)
            floors[key] = max(floors.get(key, 0.0), stats.noise_floor(a.first_s, a.second_s))
    return floors


def noise_floor_for(floors: Floors, operation: str, size: int | None) -> tuple[float, str]:
    """(floor, where it came from): this operation's A/A runs, else all A/A, else assumed."""
    if (operation, size) in floors:
        return floors[operation, size], "A/A of this operation"
    if floors:
        return max(floors.values()), "largest A/A in run"
    return DEFAULT_NOISE_FLOOR, "assumed (no A/A data in this run)"


def op_stats(run: RunData) -> list[OpStats]:
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


def ordered_ratios(run: RunData) -> list[OverheadRatio]:
    """bench/ratios.json entries: crownsafe vs SDK first, then by backend, op and size."""
    order = {name: i for i, name in enumerate(COMPARISON_LABELS)}
    return sorted(
        run.bench.ratios,
        key=lambda r: (order.get(r.comparison, len(order)), r.backend, r.operation, r.size_bytes),
    )


def goal_findings(run: RunData) -> tuple[list[str], list[str]]:
    """(reasons the run is not ready, notes): measured goals not met, and left undecided.
    The verdicts are the benchmark's (rules in harness/bench/overhead.py)."""
    reasons: list[str] = []
    notes: list[str] = []
    for r in ordered_ratios(run):
        what = f"performance goal {ratio_label(r)} >= {r.goal:g}x"
        if r.measured and r.verdict == "not met":
            reasons.append(f"{what} not met: {r.reason}")
        elif r.measured and r.verdict == "undecided":
            notes.append(f"{what} undecided: {r.reason}")
    for a in run.bench.api:
        if a.measured and a.goal_met is False:
            size = f" {a.size_bytes // 2**20} MiB" if a.size_bytes else ""
            size += f" {a.mode}" if a.mode else ""
            reasons.append(f"API goal {a.test}{size} [{a.backend}] not met: {_api_figures(a)}")
    for p in run.bench.memory:
        what = f"memory goal for a streamed {memory_label(p)}"
        if p.measured and p.verdict == "not met":
            reasons.append(f"{what} not met: {p.reason}")
        elif p.measured and p.verdict == "undecided":
            notes.append(f"{what} undecided: {p.reason}")
    return reasons, notes


def _api_figures(a: ApiBenchResult) -> str:
    if a.test == "upload_vs_direct":
        return (
            f"{a.api_mb_s} MB/s through the API vs {a.direct_mb_s} direct = {a.ratio}x "
            f"< {a.goal_ratio}x"
        )
    return (
        f"app RSS +{a.app_peak_rss_growth_mib} MiB (goal < {a.goal_rss_mib}), "
        f"/health p99 {a.health_p99_ms} ms (goal < {a.goal_p99_ms})"
    )


def baseline_rows(run: RunData, baseline: RunData, threshold: float = 0.10) -> list[BaselineRow]:
    """Every benchmark in both runs: ratio to the baseline and whether it regressed."""

    def by_name(r: RunData) -> dict[str, list[float]]:
        return {
            b.fullname or b.name: b.samples_s or [b.median_s]
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


def _failures(
    run: RunData, profile: RunProfile, load: list[LoadRunFindings]
) -> tuple[list[str], list[str]]:
    """(reasons the run is not ready, notes): everything that failed, required or not."""
    reasons: list[str] = [str(p) for p in run.problems]
    notes: list[str] = []
    for suite in run.suites:
        for backend in suite.backend_names():
            failed = suite.counts(backend)["failed"]
            if failed:
                where = f" [{backend}]" if backend != "-" else ""
                reasons.append(f"{failed} failed test(s) in suite {suite.suite}{where}")
        skipped = suite.counts()["skipped"]
        if skipped:
            notes.append(f"{skipped} skipped test(s) in suite {suite.suite}")
    res = run.resilience
    if res is not None:
        if res.lost:
            reasons.append(f"{res.lost} acknowledged upload(s) lost or corrupted under faults")
        most, bound = res.summary.max_attempts_per_call, res.summary.attempts_bound
        if bound and most > bound:
            reasons.append(f"a call made {most} HTTP attempts under faults (bound {bound})")
        reasons += [
            f"resilience check failed: {c.name} [{c.backend}]" for c in res.checks if not c.passed
        ]
    if run.migration is not None:
        reasons += run.migration.broken_promises()
    goal_reasons, goal_notes = goal_findings(run)
    reasons += goal_reasons
    if profile.benchmarks.undecided_fails:
        reasons += [
            f"{n} (the profile {profile.name!r} counts undecided as failed)" for n in goal_notes
        ]
    else:
        notes += goal_notes
    gate = run.bench.gate
    if gate is not None and not gate.passed:
        names = ", ".join(r.name for r in gate.regressions) or "see bench/gate.json"
        reasons.append(f"benchmark regression gate failed: {names}")
    for found in load:
        reasons += found.reasons
        notes += found.notes
    for area, checks in run.checks.items():
        reasons += [f"{area} check failed: {c.name}" for c in checks if not c.passed]
    return reasons, notes


def verdict(
    run: RunData,
    profile: RunProfile | None = None,
    baseline: list[BaselineRow] | None = None,
    load: list[LoadRunFindings] | None = None,
) -> Verdict:
    """ready / not ready / incomplete against `profile` (default: the default profile)."""
    profile = profile or read_run_profile()
    load = load_findings(run) if load is None else load
    items = assess(run, profile, load)
    reasons, notes = _failures(run, profile, load)
    reasons += [
        f"regression against the baseline: {r.name}" for r in baseline or [] if r.regression
    ]
    missing = []
    for item in items:
        if item.status != "not assessed":
            continue
        absent = [b for b in item.required_backends if b not in item.assessed_backends]
        where = f" on {', '.join(absent)}" if absent and item.assessed_backends else ""
        missing.append(f"{item.label}: not assessed{where} ({item.detail})")
    if not run.suites and run.bench.empty() and run.resilience is None and run.migration is None:
        notes.append("nothing ran: the run folder holds no suite, benchmark or summary results")
    outcome: Outcome = "not ready" if reasons else "incomplete" if missing else "ready"
    return Verdict(outcome, profile.name, reasons, missing, notes, items)


def regression_lines(
    run: RunData, baseline: RunData | None, rows: list[BaselineRow] | None
) -> dict[str, list[RegressionLine]]:
    """Benchmarks slower than the baseline, grouped by operation, each with its size."""
    label_of = {
        b.fullname or b.name: op_label(b.operation, b.size_bytes) for b in run.bench.benchmarks
    }
    grouped: dict[str, list[RegressionLine]] = {}

    def add(name: str, change: str, against: str) -> None:
        line = RegressionLine(label_of.get(name, "other"), name, change, against)
        grouped.setdefault(line.operation, []).append(line)

    for row in rows or []:
        if row.regression and baseline is not None:
            if row.comparison is not None:
                r = row.comparison.ratio
                change = f"{r.value - 1:+.0%} [CI {r.low - 1:+.0%}, {r.high - 1:+.0%}]"
            else:
                change = f"{row.median_s / row.baseline_median_s - 1:+.0%} (medians only)"
            add(row.name, change, baseline.path.name)
    gate = run.bench.gate
    for reg in gate.regressions if gate is not None else []:
        add(
            reg.name,
            f"{reg.ratio - 1:+.0%} (median; regression gate)",
            gate.baseline if gate else "",
        )
    return dict(sorted(grouped.items()))


def _sweeps(run: RunData) -> list[Sweep]:
    groups: dict[tuple[str, int], list[SweepPoint]] = {}
    for p in run.bench.sweep:
        groups.setdefault((p.operation, p.size_bytes), []).append(p)
    sweeps = []
    for (operation, size), points in sorted(groups.items()):
        by_backend: dict[str, list[SweepPoint]] = {}
        for p in sorted(points, key=lambda q: (q.backend, q.workers)):
            by_backend.setdefault(p.backend, []).append(p)
        knees = {
            backend: stats.knee(
                [p.workers for p in pts],
                [p.mb_per_s if size >= 1024 * 1024 else p.ops_per_s for p in pts],
            )
            for backend, pts in by_backend.items()
        }
        sweeps.append(Sweep(operation, size, points, {b: int(k) for b, k in knees.items()}))
    return sweeps


def _costs(run: RunData) -> CostFindings:
    prices = cost.read_prices()
    profiles = (
        [cost.WorkloadProfile(**p.model_dump()) for p in run.workload.profiles]
        if run.workload
        else []
    )
    chosen = profiles or list(cost.DEFAULT_SCENARIOS)
    return CostFindings(
        prices=dict(prices), bills=[(p, cost.compare_providers(p, prices)) for p in chosen]
    )


def _emulated(run: RunData) -> bool:
    """Whether the storage numbers come from emulators (not external endpoints)."""
    modes = {run.environment.provision.lower()}
    services = run.services.services if run.services else []
    modes |= {s.mode.lower() for s in services if s.name in ("azurite", "azure", "moto", "s3")}
    return "external" not in modes


def analyse(data: ReportInput) -> Findings:
    """Everything the report states about `data.run` (and against `data.baseline`)."""
    run = data.run
    rows = baseline_rows(run, data.baseline) if data.baseline is not None else None
    load = load_findings(run)
    return Findings(
        run=run,
        baseline=data.baseline,
        verdict=verdict(run, data.profile, rows, load),
        regressions=regression_lines(run, data.baseline, rows),
        op_stats=op_stats(run),
        ratios=ordered_ratios(run),
        memory=list(run.bench.memory),
        sweeps=_sweeps(run),
        baseline_rows=rows,
        costs=_costs(run),
        emulated=_emulated(run),
        load=load,
    )
