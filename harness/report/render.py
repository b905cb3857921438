"""Render a run folder into one self-contained HTML report: `render_run(run_dir)`.

The page needs nothing outside itself: CSS is inlined, charts are inline SVG, there is
no script, font, image or link to fetch. Every chart has a table with the same numbers.
`crownsafe-harness report RUN_DIR [--baseline RUN_DIR]` delegates to `main`.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from harness.bench import cost, stats
from harness.report import analysis as an
from harness.report import overhead, sections
from harness.report.model import BACKENDS, Run, load_run
from harness.report.svg import Bar, bar_chart, fmt, line_chart
from harness.report.tables import Cell, Figure, Table

__all__ = ["build_context", "main", "render_run"]

BACKEND_LABELS = {"azure": "Azure", "s3": "S3"}


def ms(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{fmt(seconds * 1000)} ms"


def est_ms(e: stats.Estimate | None) -> str:
    if e is None:
        return "not measured"
    return f"{fmt(e.value * 1000)} ms [{fmt(e.low * 1000)}, {fmt(e.high * 1000)}]"


def _finding_cell(row: an.OpStats) -> Cell:
    c = row.comparison
    if c is None:
        return Cell(row.finding, "muted")
    return Cell(f"{row.finding} ({c.reason})", "" if c.verdict == "same" else "strong")


def _ratio(row: an.OpStats) -> str:
    c = row.comparison
    if c is None:
        return "n/a"
    return f"{fmt(c.ratio.value)} [{fmt(c.ratio.low)}, {fmt(c.ratio.high)}]"


def seed_table(rows: list[an.OpStats], prices: Mapping[str, cost.ProviderPrices]) -> Table:
    by_key = {(r.operation, r.size_bytes): r for r in rows}
    table = Table(
        "The seed's Performance Benchmarks table: its estimates beside this run's measurements "
        "(median and 95% bootstrap CI; ratio = Azure median / S3 median, below 1 = Azure faster)",
        [
            "Operation",
            "Seed S3",
            "Seed Azure",
            "Seed claim",
            "Measured S3",
            "Measured Azure",
            "Azure / S3",
            "Finding",
        ],
    )
    for seed in an.SEED_ROWS:
        row = by_key.get((seed.operation, seed.size_bytes))
        measured: list[Cell | str] = (
            [
                est_ms(row.median.get("s3")),
                est_ms(row.median.get("azure")),
                _ratio(row),
                _finding_cell(row),
            ]
            if row
            else ["not measured", "not measured", "n/a", Cell("not measured", "muted")]
        )
        table.rows.append(
            [seed.label, f"~{seed.s3_ms:g} ms", f"~{seed.azure_ms:g} ms", seed.claim, *measured]
        )
    s3p, azp = prices.get("s3"), prices.get("azure")
    table.rows.append(
        [
            "Cost (per GB-month)",
            "$0.023",
            "$0.0208",
            "10% cheaper",
            f"${s3p.storage_gb_month} (price table)" if s3p else "n/a",
            f"${azp.storage_gb_month} (price table)" if azp else "n/a",
            fmt(azp.storage_gb_month / s3p.storage_gb_month) if s3p and azp else "n/a",
            Cell("a price, not a measurement: see the cost section", "muted"),
        ]
    )
    return table


def _bars_ms(rows: list[an.OpStats]) -> dict[tuple[str, str], Bar]:
    return {
        (r.label, BACKEND_LABELS[b]): Bar(e.value * 1000, e.low * 1000, e.high * 1000)
        for r in rows
        for b, e in r.median.items()
        if b in BACKEND_LABELS
    }


def latency_figure(chart_id: str, title: str, rows: list[an.OpStats]) -> Figure:
    series = [BACKEND_LABELS[b] for b in BACKENDS]
    svg = bar_chart(
        chart_id,
        title,
        f"{title}. Bars: median per backend; whiskers: 95% CI.",
        [r.label for r in rows],
        series,
        _bars_ms(rows),
        "ms",
    )
    table = Table(
        f"Data behind: {title}",
        ["Operation", "S3 median [CI]", "Azure median [CI]", "Azure / S3 [CI]", "Finding"],
    )
    for r in rows:
        finding = Cell(
            r.finding, "strong" if r.comparison and r.comparison.verdict != "same" else ""
        )
        table.rows.append(
            [r.label, est_ms(r.median.get("s3")), est_ms(r.median.get("azure")), _ratio(r), finding]
        )
    return Figure(Markup(svg), table)


def throughput_figure(chart_id: str, operation: str, rows: list[an.OpStats]) -> Figure | None:
    sized = [r for r in rows if r.operation == operation and r.size_bytes]
    if not sized:
        return None
    title = f"{an.OP_LABELS[operation]} throughput by object size (MiB/s)"
    values: dict[tuple[str, str], Bar] = {}
    table = Table(f"Data behind: {title}", ["Size", "S3 MiB/s [CI]", "Azure MiB/s [CI]"])
    for r in sized:
        mib = (r.size_bytes or 0) / an.MIB
        cells: list[Cell | str] = [an.size_label(r.size_bytes)]
        for b in ("s3", "azure"):
            e = r.median.get(b)
            if e is None or e.value <= 0:
                cells.append("not measured")
                continue
            bar = Bar(
                mib / e.value, mib / e.high if e.high else None, mib / e.low if e.low else None
            )
            values[(an.size_label(r.size_bytes), BACKEND_LABELS[b])] = bar
            cells.append(f"{fmt(bar.value)} [{fmt(bar.low)}, {fmt(bar.high)}]")
        table.rows.append(cells)
    svg = bar_chart(
        chart_id,
        title,
        f"{title}, from median time per object, whiskers 95% CI.",
        [an.size_label(r.size_bytes) for r in sized],
        [BACKEND_LABELS[b] for b in BACKENDS],
        values,
        "MiB/s",
    )
    return Figure(Markup(svg), table)


def percentile_figures(rows: list[an.OpStats]) -> list[Figure]:
    small = [r for r in rows if (r.size_bytes or 0) <= an.MIB and r.pct]
    figures = []
    for b in BACKENDS:
        have = [r for r in small if b in r.pct]
        if not have:
            continue
        title = f"Latency percentiles, {BACKEND_LABELS[b]} (ms)"
        values = {
            (r.label, p): Bar(getattr(r.pct[b], p) * 1000)
            for r in have
            for p in ("p50", "p90", "p99")
        }
        svg = bar_chart(
            f"pct-{b}",
            title,
            f"{title}: p50, p90 and p99 per operation.",
            [r.label for r in have],
            ["p50", "p90", "p99"],
            values,
            "ms",
        )
        table = Table(f"Data behind: {title}", ["Operation", "p50", "p90", "p99", "samples"])
        for r in have:
            p = r.pct[b]
            table.rows.append([r.label, ms(p.p50), ms(p.p90), ms(p.p99), str(p.n)])
        figures.append(Figure(Markup(svg), table))
    return figures


def sweep_figures(run: Run) -> list[Figure]:
    groups: dict[tuple[str, int], list[Any]] = {}
    for p in run.bench.sweep:
        groups.setdefault((p.operation, p.size_bytes), []).append(p)
    figures = []
    for i, ((operation, size), points) in enumerate(sorted(groups.items())):
        by_bytes = size >= an.MIB
        unit = "MiB/s" if by_bytes else "ops/s"
        lines: dict[str, list[tuple[float, float]]] = {}
        for p in points:
            value = p.mb_per_s * 1e6 / an.MIB if by_bytes else p.ops_per_s
            lines.setdefault(BACKEND_LABELS.get(p.backend, p.backend), []).append(
                (p.workers, value)
            )
        knees = {
            name: float(stats.knee([int(x) for x, _ in pts], [y for _, y in pts]))
            for name, pts in lines.items()
        }
        title = f"Concurrency sweep: {an.op_label(operation, size)} ({unit})"
        svg = line_chart(
            f"sweep-{i}",
            title,
            f"{title}; a ring marks each backend's knee.",
            lines,
            unit,
            "workers",
            markers=knees,
        )
        table = Table(f"Data behind: {title}", ["Backend", "Workers", "ops/s", "MB/s", "Knee"])
        for p in sorted(points, key=lambda q: (q.backend, q.workers)):
            knee = knees.get(BACKEND_LABELS.get(p.backend, p.backend)) == p.workers
            table.rows.append(
                [
                    BACKEND_LABELS.get(p.backend, p.backend),
                    str(p.workers),
                    fmt(p.ops_per_s),
                    fmt(p.mb_per_s),
                    "knee" if knee else "",
                ]
            )
        figures.append(Figure(Markup(svg), table))
    return figures


def cost_figure(
    profiles: Sequence[cost.WorkloadProfile], prices: Mapping[str, cost.ProviderPrices]
) -> Figure:
    title = "Monthly cost per workload (USD)"
    values: dict[tuple[str, str], Bar] = {}
    table = Table(
        "Monthly cost per provider and workload (730-hour month, GB = 2^30 bytes)",
        [
            "Workload",
            "Provider",
            "Stored GB",
            "Egress GB",
            "Write requests (per upload)",
            "Read requests",
            "Storage",
            "Egress",
            "Writes",
            "Reads",
            "Total",
        ],
    )
    for n, profile in enumerate(profiles, 1):
        for bill in cost.compare_providers(profile, prices):
            values[(f"Workload {n}", BACKEND_LABELS.get(bill.provider, bill.provider))] = Bar(
                bill.total_usd
            )
            table.rows.append(
                [
                    f"{n}. {profile.name}",
                    bill.label,
                    fmt(bill.stored_gb),
                    fmt(bill.egress_gb),
                    f"{fmt(bill.write_requests)} ({bill.requests_per_upload})",
                    fmt(bill.read_requests),
                    f"${bill.storage_usd:,.2f}",
                    f"${bill.egress_usd:,.2f}",
                    f"${bill.write_usd:,.2f}",
                    f"${bill.read_usd:,.2f}",
                    Cell(f"${bill.total_usd:,.2f}", "strong"),
                ]
            )
    svg = bar_chart(
        "cost",
        title,
        f"{title} for {len(profiles)} workloads, per provider.",
        [f"Workload {n}" for n in range(1, len(profiles) + 1)],
        [BACKEND_LABELS[b] for b in BACKENDS],
        values,
        "USD / month",
    )
    return Figure(Markup(svg), table)


def build_context(run: Run, baseline: Run | None = None) -> dict[str, Any]:
    """Everything the template shows, computed from the run (and the baseline)."""
    prices = cost.load_prices()
    profiles = sections.workload_profiles(run)
    rows = an.op_stats(run)
    base_rows = an.baseline_rows(run, baseline) if baseline is not None else None
    seed_ops = {(s.operation, s.size_bytes) for s in an.SEED_ROWS}
    other = [
        r
        for r in rows
        if (r.operation, r.size_bytes) not in seed_ops
        and (r.size_bytes or 0) <= an.MIB
        and len(r.median) > 1  # a per-backend comparison (the migration has its own section)
    ]
    figures = [
        latency_figure(
            "lat-seed",
            "Seed operations: median latency (ms)",
            [r for r in rows if (r.operation, r.size_bytes) in seed_ops],
        ),
        latency_figure("lat-other", "Other operations: median latency (ms)", other),
        throughput_figure("tp-upload", "upload", rows),
        throughput_figure("tp-download", "download", rows),
    ]
    return {
        "run": run,
        "title": f"Crown Safe storage report: {run.path.name}",
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "verdict": an.verdict(run, base_rows),
        "label": sections.environment_label(run),
        "seed_table": seed_table(rows, prices),
        "op_figures": [f for f in figures if f is not None and f.table.rows],
        "pct_figures": percentile_figures(rows),
        "sweep_figures": sweep_figures(run),
        "stats_table": sections.stats_table(rows),
        "overhead_figures": overhead.ratio_figures(run),
        "memory_table": overhead.memory_table(run),
        "rss_table": sections.rss_table(run),
        "cost_figure": cost_figure(profiles, prices),
        "price_table": sections.price_table(prices),
        "resilience": sections.resilience_tables(run),
        "migration": sections.generic_tables(run.migration, "Migration"),
        "load": sections.load_tables(run),
        "checks": sections.check_tables(run),
        "suites": sections.suite_tables(run),
        "services": sections.services_table(run),
        "gate": sections.gate_table(run),
        "baseline": sections.baseline_table(base_rows, baseline) if baseline is not None else None,
        "environment": sections.environment_table(run),
    }


def _render(run: Run, baseline: Run | None) -> tuple[Path, an.Verdict]:
    env = Environment(
        loader=PackageLoader("harness.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    context = build_context(run, baseline)
    html = env.get_template("report.html.j2").render(**context)
    target = run.path / "index.html"
    target.write_text(html, encoding="utf-8")
    return target, context["verdict"]


def render_run(run_dir: Path, baseline: Path | None = None) -> Path:
    """Render `run_dir/index.html` from the run folder (and a baseline run folder)."""
    base = load_run(Path(baseline)) if baseline is not None else None
    return _render(load_run(Path(run_dir)), base)[0]


def main(argv: Sequence[str] | None = None) -> int:
    """`crownsafe-harness report RUN_DIR [--baseline RUN_DIR]`: write and print the report's
    path and the verdict; exit 0 when ready, 1 when not ready, 2 on a usage error."""
    p = argparse.ArgumentParser(prog="crownsafe-harness report")
    p.add_argument("run_dir", type=Path, help="run folder, e.g. reports/runs/<timestamp>")
    p.add_argument("--baseline", type=Path, help="an earlier run folder to compare against")
    args = p.parse_args(argv)
    for folder in (args.run_dir, args.baseline):
        if folder is not None and not folder.is_dir():
            print(f"report: {folder} is not a run folder (expected reports/runs/<timestamp>)")
            return 2
    base = load_run(args.baseline) if args.baseline is not None else None
    path, verdict = _render(load_run(args.run_dir), base)
    print(f"report: {path}")
    print(f"verdict: {'READY' if verdict.ready else 'NOT READY'}")
    for reason in verdict.reasons:
        print(f"  - {reason}")
    return 0 if verdict.ready else 1
