"""analyse(ReportInput) -> Findings: every number and verdict of the report, computed once.

Pure functions of the loaded run (no HTML here). Benchmark samples for an operation come
from the paired, interleaved samples (`bench/paired.json`) when present, else from
pytest-benchmark's raw data; the noise floor of a comparison is its own operation's A/A
pairs (`bench/aa.json`, and the overhead loop's two raw clients in `bench/ratios.json`),
the run's largest A/A floor only for an operation no A/A pair measured (labelled so),
else an assumed default that the report labels as such.
"""

from __future__ import annotations

import numpy as np

from harness.bench import cost, stats
from harness.bench.gate import DEFAULT_NOISE_FLOOR, find_regressions
from harness.report.findings import (
    BaselineRow,
    CostFindings,
    Findings,
    OpStats,
    RegressionLine,
    SampleSet,
    Sweep,
)
from harness.report.inputs import ReportInput
from harness.report.labels import BACKENDS, OP_ORDER, op_label, ordered_added, ordered_ratios
from harness.report.loadfindings import load_findings
from harness.report.verdict import verdict
from harness.runfolder import RunData
from harness.runfolder.bench import SweepPoint

__all__ = [
    "aa_floors",
    "analyse",
    "baseline_rows",
    "noise_floor_for",
    "op_keys",
    "op_stats",
    "ordered_ratios",
    "samples_for",
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
    """The A/A noise floor per (operation, size): the largest over the operation's own A/A
    pairs, on either backend: the `bench/aa.json` runs and the overhead loop's pair of two
    raw SDK clients (`bench/ratios.json`), which measure the same operation at the same
    size. An Azure/S3 comparison is as noisy as its noisier side, hence the largest."""
    floors: Floors = {}

    def add(key: tuple[str, int | None], floor: float) -> None:
        floors[key] = max(floors.get(key, 0.0), floor)

    for a in run.bench.aa:
        if len(a.first_s) >= 2 and len(a.second_s) >= 2:
            add((a.operation, a.size_bytes), stats.noise_floor(a.first_s, a.second_s))
    for r in run.bench.ratios:
        if r.aa_first_s or r.noise_floor > 0:
            add((r.operation, r.size_bytes), r.noise_floor)
    return floors


def noise_floor_for(floors: Floors, operation: str, size: int | None) -> tuple[float, str]:
    """(floor, where it came from): this operation's own A/A pairs; only where it has none,
    the run's largest A/A floor (and the source says so); else an assumed default."""
    if (operation, size) in floors:
        return floors[operation, size], "A/A of this operation"
    if floors:
        return (
            max(floors.values()),
            "largest A/A in run (no A/A pair for this operation)",
        )
    return DEFAULT_NOISE_FLOOR, "assumed (no A/A data in this run)"


def objects_in(run: RunData, operation: str, size: int | None) -> int | None:
    """How many objects one round of this benchmark handles (`extra_info["objects"]`, as
    the object-migration benchmark records), or None for a one-object operation."""
    for b in run.bench.benchmarks:
        count = b.extra_info.get("objects")
        if b.operation == operation and b.size_bytes == size and isinstance(count, int):
            return count
    return None


def op_stats(run: RunData) -> list[OpStats]:
    """Per operation: median + CI and percentiles per backend, and Azure vs S3."""
    rows = []
    floors = aa_floors(run)
    for operation, size in op_keys(run):
        row = OpStats(operation, size, op_label(operation, size, objects_in(run, operation, size)))
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
        sweeps.append(Sweep(operation, size, points, knees))
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
        added=ordered_added(run),
        memory=list(run.bench.memory),
        sweeps=_sweeps(run),
        baseline_rows=rows,
        costs=_costs(run),
        emulated=_emulated(run),
        load=load,
    )
