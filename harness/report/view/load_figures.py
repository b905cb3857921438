"""The load section's charts: requests/s and p95 over time, users vs requests/s and p95
per step with the knee, CPU and memory of the app, the worker and the generator; each
with the table of the numbers behind it (`harness.report.view.load` builds the section)."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence

from markupsafe import Markup

from harness.report.labels import BACKEND_LABELS, fmt
from harness.report.loadfindings import GENERATOR_LIMIT, LoadRunFindings
from harness.report.view.model import Cell, Figure, Table
from harness.report.view.svg import HLine, Series, line_chart, time_chart
from harness.runfolder.load import LoadRun, ResourceSample, ResourceSeries

__all__ = [
    "history_figures",
    "load_name",
    "ms",
    "resource_figures",
    "role_series",
    "step_figures",
]

ROLE_LABELS = {"app": "app", "worker": "worker", "generator": "generator"}


def load_name(backend: str) -> str:
    """The backend as the report names it (Azure, S3)."""
    return BACKEND_LABELS.get(backend, backend)


def ms(value: float | None) -> str:
    """Milliseconds as a cell, n/a when not measured."""
    return "n/a" if value is None else f"{fmt(value)} ms"


def _series_table(title: str, series: Sequence[Series], unit: str) -> Table:
    """The numbers behind a time chart, summarised per line (every sample is in the
    run folder's load/ CSV files)."""
    table = Table(
        f"Data behind: {title} (per line; every sample is in load/<backend>/<mode>/)",
        ["Line", "Samples", f"Min ({unit})", f"Median ({unit})", f"Max ({unit})"],
    )
    for s in series:
        ys = [y for _, y in s.points]
        table.rows.append(
            [
                s.name,
                str(len(ys)),
                fmt(min(ys)) if ys else "n/a",
                fmt(statistics.median(ys)) if ys else "n/a",
                fmt(max(ys)) if ys else "n/a",
            ]
        )
    return table


def _time_figure(
    chart_id: str, title: str, series: list[Series], unit: str, hlines: Sequence[HLine] = ()
) -> Figure:
    svg = time_chart(
        chart_id,
        title,
        f"{title}: one line per {'backend' if len(series) < 3 else 'process'}, over the "
        "seconds since the run started.",
        series,
        unit,
        hlines=hlines,
    )
    return Figure(Markup(svg), _series_table(title, series, unit))


def history_figures(mode: str, found: Sequence[LoadRunFindings]) -> list[Figure]:
    have = [f for f in found if f.run.history]
    if not have:
        return []
    rps = [
        Series(load_name(f.backend), [(p.t_s, p.rps) for p in f.run.history], colour="")
        for f in have
    ]
    p95 = [
        Series(
            load_name(f.backend),
            [(p.t_s, p.p95_ms) for p in f.run.history if p.p95_ms is not None],
        )
        for f in have
    ]
    return [
        _time_figure(f"load-{mode}-rps", f"{mode}: requests/s over time", rps, "req/s"),
        _time_figure(f"load-{mode}-p95", f"{mode}: p95 latency over time", p95, "ms"),
    ]


def step_figures(found: Sequence[LoadRunFindings]) -> list[Figure]:
    have = [f for f in found if f.run.steps]
    if not have:
        return []
    rps = {load_name(f.backend): [(float(s.users), s.rps) for s in f.run.steps] for f in have}
    p95 = {
        load_name(f.backend): [
            (float(s.users), s.p95_ms) for s in f.run.steps if s.p95_ms is not None
        ]
        for f in have
    }
    knees = {load_name(f.backend): float(f.knee.users) for f in have if f.knee and f.knee.users}
    limited = [load_name(f.backend) for f in have if f.generator_limited]
    note = (
        f" No knee for {', '.join(limited)}: the load generator was the bottleneck."
        if limited
        else ""
    )
    title = "Users vs requests/s per step"
    svg = line_chart(
        "load-steps-rps",
        title,
        f"{title}, one line per backend; a ring marks each backend's knee (the highest "
        f"step whose SLOs all held).{note}",
        rps,
        "req/s",
        "users",
        markers=knees,
    )
    p95_title = "p95 latency per step (all endpoints)"
    p95_svg = line_chart(
        "load-steps-p95",
        p95_title,
        f"{p95_title}, one line per backend.",
        p95,
        "ms",
        "users",
        markers=knees,
    )
    table = Table(
        f"Data behind: {title}",
        ["Backend", "Users", "Requests/s", "Knee"],
        [
            [
                load_name(f.backend),
                str(s.users),
                fmt(s.rps),
                Cell("knee", "strong") if f.knee is not None and f.knee.step == s.index else "",
            ]
            for f in have
            for s in f.run.steps
        ],
        note=note.strip(),
    )
    p95_table = Table(
        f"Data behind: {p95_title}",
        ["Backend", "Users", "p95"],
        [[b, f"{u:g}", ms(v)] for b, pts in p95.items() for u, v in pts],
    )
    return [Figure(Markup(svg), table), Figure(Markup(p95_svg), p95_table)]


def role_series(run: LoadRun, role: str) -> ResourceSeries | None:
    return next((r for r in run.resources if r.role == role), None)


def _per_role(
    run: LoadRun, value: Callable[[ResourceSample], float], skip: str | None = None
) -> list[Series]:
    """One line per sampled process role (the worker dashed), `value` over time."""
    return [
        Series(
            ROLE_LABELS[r.role],
            [(s.t_s, value(s)) for s in r.samples],
            dashed=r.role == "worker",
        )
        for r in run.resources
        if r.samples and r.role != skip
    ]


def resource_figures(mode: str, found: Sequence[LoadRunFindings]) -> list[Figure]:
    """Per backend: CPU of the app, worker and generator with the generator's 50% line;
    then per backend the app's and the worker's memory. In the grid, Azure and S3 sit
    side by side."""
    cpu_figs, rss_figs = [], []
    for f in found:
        if not f.run.resources:
            continue
        name = load_name(f.backend)
        cpu = _per_role(f.run, lambda s: s.cpu_percent)
        generator = role_series(f.run, "generator")
        hlines = []
        if generator is not None:
            cores = generator.cores_available
            hlines.append(
                HLine(
                    100.0 * cores * GENERATOR_LIMIT,
                    f"generator limit: {GENERATOR_LIMIT:.0%} of its {cores} "
                    f"core{'s' if cores != 1 else ''}",
                )
            )
        cpu_figs.append(
            _time_figure(
                f"load-{mode}-cpu-{f.backend}",
                f"{name} {mode}: CPU (% of one core)",
                cpu,
                "% CPU",
                hlines=hlines,
            )
        )
        rss = _per_role(f.run, lambda s: s.rss_mib, skip="generator")
        if rss:
            rss_figs.append(
                _time_figure(
                    f"load-{mode}-rss-{f.backend}",
                    f"{name} {mode}: resident memory (MiB)",
                    rss,
                    "MiB",
                )
            )
    return cpu_figs + rss_figs
