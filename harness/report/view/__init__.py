"""view(Findings) -> Page: the figures and tables of the report, formatted, nothing decided.

The page model is what the template shows; it is built only from `Findings` (and the
validated run inside it), never from files, and it never calls the analysis.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from harness.report.findings import SEED_ROWS, Findings, Verdict
from harness.report.labels import MIB, scrape_points
from harness.report.view import figures, sections, tables
from harness.report.view.alerts import AlertsSection, alerts_section
from harness.report.view.cutover import CutoverSection, cutover_section
from harness.report.view.load import LoadSection, load_section
from harness.report.view.model import Cell, Figure, Table

__all__ = ["Cell", "Figure", "Page", "Table", "view"]


@dataclass
class Page:
    """Everything the template renders."""

    title: str
    run_name: str
    generated: str
    label: str
    verdict: Verdict
    assessed: Table
    regressions: list[Table]
    seed_table: Table
    op_figures: list[Figure]
    pct_figures: list[Figure]
    sweep_figures: list[Figure]
    pool_figures: list[Figure]
    stats_table: Table
    overhead_figures: list[Figure]
    memory_table: Table
    api_table: Table
    added_time_table: Table
    scrape_table: Table
    rss_table: Table
    cost_figure: Figure
    price_table: Table
    resilience: list[Table]
    migration: list[Table]
    cutover: CutoverSection | None
    alerts: AlertsSection | None
    load: LoadSection | None
    checks: list[Table]
    suites: list[Table]
    compatibility: Table | None
    services: Table
    gate: Table | None
    baseline: Table | None
    environment: Table


def view(findings: Findings, *, now: datetime | None = None) -> Page:
    run, rows = findings.run, findings.op_stats
    seed_ops = {(s.operation, s.size_bytes) for s in SEED_ROWS}
    other = [
        r
        for r in rows
        if (r.operation, r.size_bytes) not in seed_ops
        and (r.size_bytes or 0) <= MIB
        and len(r.median) > 1  # a per-backend comparison (the migration has its own section)
    ]
    op_figures = [
        figures.latency_figure(
            "lat-seed",
            "Seed operations: median latency (ms)",
            [r for r in rows if (r.operation, r.size_bytes) in seed_ops],
        ),
        figures.latency_figure("lat-other", "Other operations: median latency (ms)", other),
        figures.throughput_figure("tp-upload", "upload", rows),
        figures.throughput_figure("tp-download", "download", rows),
    ]
    migration = (
        {"postgres_provision": run.migration.postgres_provision, **run.migration.sections}
        if run.migration is not None
        else None
    )
    baseline = (
        tables.baseline_table(findings.baseline_rows, findings.baseline)
        if findings.baseline is not None
        else None
    )
    return Page(
        title=f"Crown Safe storage report: {run.path.name}",
        run_name=run.path.name,
        generated=(now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC"),
        label=sections.environment_label(findings.emulated),
        verdict=findings.verdict,
        assessed=sections.assessed_table(findings.verdict),
        regressions=sections.regression_tables(findings.regressions),
        seed_table=tables.seed_table(rows, findings.costs.prices),
        op_figures=[f for f in op_figures if f is not None and f.table.rows],
        pct_figures=figures.percentile_figures(rows),
        sweep_figures=figures.sweep_figures(findings.sweeps),
        pool_figures=figures.pool_figures(run.bench.pool),
        stats_table=tables.stats_table(rows),
        overhead_figures=figures.ratio_figures(findings.ratios),
        memory_table=tables.memory_table(findings.memory),
        api_table=tables.api_table(run.bench.api),
        added_time_table=tables.added_time_table(findings.added),
        scrape_table=tables.scrape_table(scrape_points(run)),
        rss_table=tables.rss_table(run),
        cost_figure=figures.cost_figure(findings.costs),
        price_table=tables.price_table(findings.costs.prices),
        resilience=sections.resilience_tables(run),
        migration=sections.generic_tables(migration, "Migration"),
        cutover=cutover_section(run.cutover),
        alerts=alerts_section(run.alerts),
        load=load_section(run, findings.load),
        checks=sections.check_tables(run),
        suites=sections.suite_tables(run),
        compatibility=sections.compatibility_table(run),
        services=sections.services_table(run),
        gate=tables.gate_table(run),
        baseline=baseline,
        environment=sections.environment_table(run),
    )
