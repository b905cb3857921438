"""The report's load section: its tables (runs, SLOs per backend, endpoints, steps, knee,
soak), Azure and S3 side by side, and per mode the charts of `view/load_figures.py`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from harness.report.labels import BACKENDS, fmt
from harness.report.loadfindings import (
    GENERATOR_LIMIT,
    MODE_ORDER,
    LoadRunFindings,
)
from harness.report.view.load_figures import (
    history_figures,
    load_name,
    ms,
    resource_figures,
    role_series,
    step_figures,
)
from harness.report.view.model import Cell, Figure, Table
from harness.runfolder import RunData
from harness.runfolder.load import UNITS, LoadStep

__all__ = ["LoadMode", "LoadSection", "load_section"]

MODE_TITLES = {
    "duration": "Timed run",
    "iterations": "Fixed number of iterations",
    "step": "Step load: users raised step by step to find the knee",
    "soak": "Soak: memory over a long run",
}


@dataclass
class LoadMode:
    """One mode's runs (one per backend): a heading, warnings, charts and tables."""

    mode: str
    title: str
    warnings: list[str] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


@dataclass
class LoadSection:
    info: str
    summary: Table
    slos: Table
    endpoints: Table
    modes: list[LoadMode]


def _backends(found: Sequence[LoadRunFindings]) -> list[str]:
    present = {f.backend for f in found}
    return [b for b in BACKENDS if b in present] + sorted(present - set(BACKENDS))


def _generator_cell(f: LoadRunFindings) -> Cell:
    g = f.generator
    if g is None:
        return Cell("not sampled", "muted")
    text = f"{g.share:.0%} of {g.capacity_percent / 100:g} cores ({g.where})"
    return Cell(text, "fail" if f.generator_limited else "")


def _result_cell(f: LoadRunFindings) -> Cell:
    if f.judged:
        ok = f.run.passed and not f.reasons
        return Cell("passed", "pass") if ok else Cell("failed", "fail")
    if f.reasons:
        found = f.run.knee is not None and f.run.knee.step is not None
        return Cell("failed: " + ("knee below the minimum" if found else "no knee"), "fail")
    if f.generator_limited:
        return Cell("no knee: the generator was the bottleneck", "warn")
    if f.knee is not None:
        return Cell(f"knee at {f.knee.users} users, {fmt(f.knee.rps)} req/s", "strong")
    return Cell("no step held its SLOs", "warn")


def _summary(found: Sequence[LoadRunFindings]) -> Table:
    table = Table(
        "Load runs: one per backend and mode (processes = locust processes generating the "
        "load; percentiles from locust's histograms)",
        [
            "Backend",
            "Mode",
            "Users",
            "Duration",
            "Processes / API workers",
            "Requests (failed)",
            "Requests/s",
            "p95",
            "Generator CPU",
            "Result",
        ],
    )
    for f in found:
        run, total = f.run, f.total
        spawn = f" (+{run.spawn_rate:g}/s)" if run.spawn_rate else ""
        table.rows.append(
            [
                load_name(run.backend),
                run.mode,
                f"{run.users}{spawn}" if run.users is not None else "per step",
                f"{run.duration_s:g} s" if run.duration_s is not None else "n/a",
                f"{run.processes} / {run.api_workers}",
                Cell(
                    f"{total.requests:,} ({total.failures:,})",
                    ("fail" if f.judged else "warn") if total.failures else "",
                ),
                fmt(total.rps),
                ms(total.p95_ms),
                _generator_cell(f),
                _result_cell(f),
            ]
        )
    return table


def _slos(found: Sequence[LoadRunFindings]) -> Table:
    """Whole-run SLOs of the judged runs: one row per SLO, one column per backend."""
    backends = _backends(found)
    table = Table(
        "Service level objectives per backend (the SLO file's thresholds against what each "
        "judged run measured; a step search's per-step SLOs are in its step table)",
        ["Run", "Endpoint", "Metric", "Threshold", *[load_name(b) for b in backends]],
    )
    cells: dict[tuple[str, str, str, float], dict[str, Cell]] = {}
    for f in found:
        if not f.judged:
            continue
        for s in f.run.slos:
            if s.step is not None:
                continue
            measured = "no requests" if s.measured is None else fmt(s.measured) + UNITS[s.metric]
            verdict = "met" if s.passed else "missed"
            key = (f.run.mode, s.endpoint, s.metric, s.threshold)
            cells.setdefault(key, {})[f.backend] = Cell(
                f"{measured}: {verdict}", "pass" if s.passed else "fail"
            )
    for (mode, endpoint, metric, threshold), row in cells.items():
        bound = ">=" if metric == "min_rps" else "<="
        table.rows.append(
            [
                mode,
                endpoint,
                metric,
                f"{bound} {threshold:g}{UNITS[metric]}",
                *[row.get(b, Cell("not run", "muted")) for b in backends],
            ]
        )
    return table


def _endpoints(found: Sequence[LoadRunFindings]) -> Table:
    backends = _backends(found)
    headers = ["Run", "Endpoint"]
    for b in backends:
        headers += [
            f"{load_name(b)} requests (failed)",
            f"{load_name(b)} req/s",
            f"{load_name(b)} p50/p95/p99",
        ]
    table = Table("Per endpoint, per backend (latencies in ms)", headers)
    rows: dict[tuple[str, str], dict[str, list[Cell | str]]] = {}
    for f in found:
        for e in f.run.endpoints:
            rows.setdefault((f.run.mode, e.name), {})[f.backend] = [
                Cell(
                    f"{e.requests:,} ({e.failures:,})",
                    ("fail" if f.judged else "warn") if e.failures else "",
                ),
                fmt(e.rps),
                " / ".join(fmt(v) for v in (e.p50_ms, e.p95_ms, e.p99_ms)),
            ]
    for (mode, name), per in rows.items():
        row: list[Cell | str] = [mode, Cell(name, "strong") if name == "Aggregated" else name]
        for b in backends:
            row += per.get(b, [Cell("not run", "muted"), "", ""])
        table.rows.append(row)
    return table


def _steps_table(found: Sequence[LoadRunFindings]) -> Table:
    """Every step of every step run: its statistics, SLOs and the generator's CPU."""
    table = Table(
        "Steps per backend: each step's own statistics (all endpoints), whether its SLOs "
        "held, and the generator's CPU as a share of its cores",
        [
            "Backend",
            "Step",
            "Users",
            "Window (s)",
            "Requests/s",
            "p95 / p99",
            "Error ratio",
            "SLOs",
            "Generator CPU",
            "Knee",
        ],
    )
    for f in found:
        series = role_series(f.run, "generator")
        capacity = 100.0 * (series.cores_available if series else 1)
        for s in f.run.steps:
            cpu = s.generator_cpu_percent
            share = None if cpu is None else cpu / capacity
            is_knee = f.knee is not None and f.knee.step == s.index
            table.rows.append(
                [
                    load_name(f.backend),
                    str(s.index),
                    str(s.users),
                    f"{s.start_s:g}-{s.end_s:g}",
                    fmt(s.rps),
                    f"{ms(s.p95_ms)} / {ms(s.p99_ms)}",
                    f"{s.error_ratio:.2%}",
                    _step_slos(s),
                    Cell(
                        "n/a" if share is None else f"{share:.0%}",
                        "fail" if share is not None and share >= GENERATOR_LIMIT else "",
                    ),
                    Cell("knee", "strong") if is_knee else "",
                ]
            )
    return table


def _step_slos(step: LoadStep) -> Cell:
    unmeasured = f"; not measured: {', '.join(step.not_measured)}" if step.not_measured else ""
    if step.slos_passed:
        return Cell("held" + unmeasured, "pass")
    return Cell("missed" + unmeasured, "fail")


def _knee_table(found: Sequence[LoadRunFindings]) -> Table:
    table = Table(
        "The knee per backend: the highest step whose SLOs all held, reported only when "
        f"the load generator used less than {GENERATOR_LIMIT:.0%} of its CPU there",
        ["Backend", "Knee", "Generator CPU", "Why"],
    )
    for f in found:
        if f.run.mode != "step":
            continue
        if f.generator_limited:
            knee = Cell("not reported: the generator was the bottleneck", "fail")
        elif f.knee is not None:
            knee = Cell(f"{f.knee.users} users, {fmt(f.knee.rps)} req/s (step {f.knee.step})")
        else:
            knee = Cell("none: no step held its SLOs", "warn")
        why = f.run.knee.reason if f.run.knee else ""
        generator = f.generator.text() if f.generator else "not sampled"
        table.rows.append([load_name(f.backend), knee, generator, why])
    return table


def _soak_table(found: Sequence[LoadRunFindings]) -> Table:
    table = Table(
        "Soak: memory growth per hour (least-squares slope of RSS over time) against its bound",
        ["Backend", "Duration", "App growth", "Worker growth", "Bound", "Result"],
    )
    for f in found:
        soak = f.run.soak
        if soak is None:
            continue
        table.rows.append(
            [
                load_name(f.backend),
                f"{soak.duration_s / 3600:.2g} h",
                f"{fmt(soak.app_growth_mib_per_h)} MiB/h",
                f"{fmt(soak.worker_growth_mib_per_h)} MiB/h",
                f"<= {fmt(soak.bound_mib_per_h)} MiB/h",
                Cell("within bound", "pass") if soak.passed else Cell("grows too fast", "fail"),
            ]
        )
    return table


def _mode(mode: str, found: list[LoadRunFindings]) -> LoadMode:
    users = sorted({f.run.users for f in found if f.run.users is not None})
    durations = sorted({f.run.duration_s for f in found if f.run.duration_s is not None})
    shape = ", ".join(
        [f"{'/'.join(map(str, users))} users"] * bool(users)
        + ["/".join(f"{d:g}" for d in durations) + " s"] * bool(durations)
    )
    title = MODE_TITLES.get(mode, mode) + (f" ({shape})" if shape else "")
    section = LoadMode(mode, title)
    for f in found:
        if f.generator_limited:
            figure = f": {f.generator.text()}" if f.generator else ""
            section.warnings.append(
                f"{load_name(f.backend)}: the load generator was the bottleneck{figure}. The "
                "requests/s shown are the generator's limit, not the service's"
                + ("; no knee is reported." if mode == "step" else ".")
            )
    section.figures = (
        history_figures(mode, found) + step_figures(found) + resource_figures(mode, found)
    )
    if mode == "step":
        section.tables += [_knee_table(found), _steps_table(found)]
    if any(f.run.soak for f in found):
        section.tables.append(_soak_table(found))
    return section


def load_section(run: RunData, found: list[LoadRunFindings]) -> LoadSection | None:
    if run.load is None:
        return None
    info = "; ".join(
        f"{label}: {value}"
        for label, value in (
            ("tool", run.load.tool),
            ("SLO file", run.load.slo_file),
            ("machine", run.load.machine),
        )
        if value
    )
    modes = [
        _mode(m, [f for f in found if f.run.mode == m])
        for m in MODE_ORDER
        if any(f.run.mode == m for f in found)
    ]
    return LoadSection(info, _summary(found), _slos(found), _endpoints(found), modes)
