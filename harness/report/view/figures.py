"""The report's charts: each an inline SVG and the table with the same numbers."""

from __future__ import annotations

from collections.abc import Callable

from markupsafe import Markup

from harness.bench.stats import Estimate, Knee
from harness.report import labels as lb
from harness.report.findings import CostFindings, OpStats, Sweep
from harness.report.view.model import Cell, Figure, Table
from harness.report.view.scale import split_long
from harness.report.view.svg import Bar, RatioRow, bar_chart, fmt, line_chart, ratio_chart
from harness.runfolder.bench import OverheadRatio, PoolPoint

__all__ = [
    "cost_figure",
    "est_ms",
    "finding_cell",
    "knee_text",
    "latency_figure",
    "ms",
    "percentile_figures",
    "pool_figures",
    "ratio_cell",
    "ratio_figures",
    "sweep_figures",
    "throughput_figure",
    "verdict_cell",
]

BACKEND_LABELS = lb.BACKEND_LABELS
BACKENDS = lb.BACKENDS


def ms(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{fmt(seconds * 1000)} ms"


def est_ms(e: Estimate | None) -> str:
    if e is None:
        return "not measured"
    return f"{fmt(e.value * 1000)} ms [{fmt(e.low * 1000)}, {fmt(e.high * 1000)}]"


def finding_cell(row: OpStats) -> Cell:
    """The call with its reason and the noise floor it was made against (every call shows
    its floor, so two tables can never judge one comparison by different floors unseen)."""
    c = row.comparison
    if c is None:
        return Cell(row.finding, "muted")
    reason = c.reason.split(" and exceeds the noise floor")[0].split(": within the A/A")[0]
    return Cell(
        f"{row.finding} ({reason}; {row.floor_text})", "" if c.verdict == "same" else "strong"
    )


def ratio_cell(row: OpStats) -> str:
    c = row.comparison
    if c is None:
        return "n/a"
    return f"{fmt(c.ratio.value)} [{fmt(c.ratio.low)}, {fmt(c.ratio.high)}]"


def _bars_ms(rows: list[OpStats]) -> dict[tuple[str, str], Bar]:
    return {
        (r.label, BACKEND_LABELS[b]): Bar(e.value * 1000, e.low * 1000, e.high * 1000)
        for r in rows
        for b, e in r.median.items()
        if b in BACKEND_LABELS
    }


def latency_figure(chart_id: str, title: str, rows: list[OpStats]) -> Figure:
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
            f"{r.finding} ({r.floor_text})" if r.comparison else r.finding,
            "strong" if r.comparison and r.comparison.verdict != "same" else "",
        )
        table.rows.append(
            [
                r.label,
                est_ms(r.median.get("s3")),
                est_ms(r.median.get("azure")),
                ratio_cell(r),
                finding,
            ]
        )
    return Figure(Markup(svg), table)


def throughput_figure(chart_id: str, operation: str, rows: list[OpStats]) -> Figure | None:
    sized = [r for r in rows if r.operation == operation and r.size_bytes]
    if not sized:
        return None
    title = f"{lb.OP_LABELS[operation]} throughput by object size (MiB/s)"
    values: dict[tuple[str, str], Bar] = {}
    table = Table(f"Data behind: {title}", ["Size", "S3 MiB/s [CI]", "Azure MiB/s [CI]"])
    for r in sized:
        mib = (r.size_bytes or 0) / lb.MIB
        cells: list[Cell | str] = [lb.size_label(r.size_bytes)]
        for b in ("s3", "azure"):
            e = r.median.get(b)
            if e is None or e.value <= 0:
                cells.append("not measured")
                continue
            bar = Bar(
                mib / e.value, mib / e.high if e.high else None, mib / e.low if e.low else None
            )
            values[(lb.size_label(r.size_bytes), BACKEND_LABELS[b])] = bar
            cells.append(f"{fmt(bar.value)} [{fmt(bar.low)}, {fmt(bar.high)}]")
        table.rows.append(cells)
    svg = bar_chart(
        chart_id,
        title,
        f"{title}, from median time per object, whiskers 95% CI.",
        [lb.size_label(r.size_bytes) for r in sized],
        [BACKEND_LABELS[b] for b in BACKENDS],
        values,
        "MiB/s",
    )
    return Figure(Markup(svg), table)


def percentile_figures(rows: list[OpStats]) -> list[Figure]:
    """Per backend, p50/p90/p99 per operation; operations whose median is more than 10x
    the others' (`scale.split_long`, e.g. a 4 s whole-bucket migration beside 2 ms
    uploads) on a second chart, "long operations", so each axis fits its bars."""
    small = [r for r in rows if (r.size_bytes or 0) <= lb.MIB and r.pct]
    figures = []
    for b in BACKENDS:
        have = [r for r in small if b in r.pct]
        regular, long = split_long(have, _p50_of(b))
        for suffix, part, what in (("", regular, ""), ("-long", long, ": long operations")):
            if part:
                figures.append(_percentile_figure(f"pct-{b}{suffix}", b, what, part))
    return figures


def _p50_of(backend: str) -> Callable[[OpStats], float]:
    return lambda r: r.pct[backend].p50


def _percentile_figure(chart_id: str, backend: str, what: str, rows: list[OpStats]) -> Figure:
    title = f"Latency percentiles, {BACKEND_LABELS[backend]}{what} (ms)"
    values = {
        (r.label, p): Bar(getattr(r.pct[backend], p) * 1000)
        for r in rows
        for p in ("p50", "p90", "p99")
    }
    svg = bar_chart(
        chart_id,
        title,
        f"{title}: p50, p90 and p99 per operation.",
        [r.label for r in rows],
        ["p50", "p90", "p99"],
        values,
        "ms",
    )
    table = Table(f"Data behind: {title}", ["Operation", "p50", "p90", "p99", "samples"])
    for r in rows:
        p = r.pct[backend]
        table.rows.append([r.label, ms(p.p50), ms(p.p90), ms(p.p99), str(p.n)])
    return Figure(Markup(svg), table)


def knee_text(knee: Knee, unit: str) -> str:
    """e.g. "knee at 16 workers (500 ops/s, >= 90% of the best: 535 ops/s at 64 workers)"."""
    best = f"best {fmt(knee.best_throughput)} {unit} at {knee.best_workers} workers"
    if not knee.reached:
        return f"knee not reached: still growing at its last step ({best})"
    return f"knee at {knee.workers} workers ({fmt(knee.throughput)} {unit}, >= 90% of the {best})"


def sweep_figures(sweeps: list[Sweep]) -> list[Figure]:
    figures = []
    for i, sweep in enumerate(sweeps):
        by_bytes = sweep.size_bytes >= lb.MIB
        unit = "MiB/s" if by_bytes else "ops/s"
        scale = 1e6 / lb.MIB if by_bytes else 1.0
        lines: dict[str, list[tuple[float, float]]] = {}
        for p in sweep.points:
            value = p.mb_per_s * scale if by_bytes else p.ops_per_s
            lines.setdefault(BACKEND_LABELS.get(p.backend, p.backend), []).append(
                (p.workers, value)
            )
        knees = {
            BACKEND_LABELS.get(b, b): float(k.workers)
            for b, k in sweep.knees.items()
            if k.workers is not None
        }
        title = f"Concurrency sweep: {lb.op_label(sweep.operation, sweep.size_bytes)} ({unit})"
        shown = {
            b: Knee(
                k.workers,
                None if k.throughput is None else k.throughput * scale,
                k.best_workers,
                k.best_throughput * scale,
                k.reached,
            )
            for b, k in sweep.knees.items()
        }
        note = "; ".join(
            f"{BACKEND_LABELS.get(b, b)}: {knee_text(k, unit)}" for b, k in sorted(shown.items())
        )
        svg = line_chart(
            f"sweep-{i}",
            title,
            f"{title}; a ring marks each backend's knee (the fewest workers reaching 90% of "
            f"its best throughput). {note}.",
            lines,
            unit,
            "workers",
            markers=knees,
        )
        table = Table(
            f"Data behind: {title}", ["Backend", "Workers", "ops/s", "MB/s", "Knee"], note=note
        )
        for p in sorted(sweep.points, key=lambda q: (q.backend, q.workers)):
            k = sweep.knees.get(p.backend)
            marks = []
            if k is not None and k.workers == p.workers:
                marks.append("knee")
            if k is not None and k.best_workers == p.workers:
                marks.append("best" if k.reached else "best (still growing)")
            table.rows.append(
                [
                    BACKEND_LABELS.get(p.backend, p.backend),
                    str(p.workers),
                    fmt(p.ops_per_s),
                    fmt(p.mb_per_s),
                    ", ".join(marks),
                ]
            )
        figures.append(Figure(Markup(svg), table))
    return figures


def cost_figure(costs: CostFindings) -> Figure:
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
    for n, (profile, bills) in enumerate(costs.bills, 1):
        for bill in bills:
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
        f"{title} for {len(costs.bills)} workloads, per provider.",
        [f"Workload {n}" for n in range(1, len(costs.bills) + 1)],
        [BACKEND_LABELS[b] for b in BACKENDS],
        values,
        "USD / month",
    )
    return Figure(Markup(svg), table)


VERDICT_CLS = {"met": "pass", "not met": "fail", "undecided": "warn"}


def verdict_cell(verdict: str, measured: bool) -> Cell:
    text = verdict if measured else f"{verdict} (smoke run)"
    return Cell(text, VERDICT_CLS.get(verdict, "warn"))


def ratio_figures(rows: list[OverheadRatio]) -> list[Figure]:
    """One chart and the table behind it per comparison in bench/ratios.json."""
    figures: list[Figure] = []
    for comparison in dict.fromkeys(r.comparison for r in rows):
        mine = [r for r in rows if r.comparison == comparison]
        first = mine[0]
        name = lb.comparison_label(first)
        goal = f">= {first.goal:g}" + (f" ({first.goal_source})" if first.goal_source else "")
        title = f"ops/s ratio {name}, goal {goal}"
        svg = ratio_chart(
            f"overhead-{len(figures)}",
            f"{name}: ops/s ratio",
            f"{title}. Each row: the ratio with its 95% CI, the goal and the A/A noise "
            "floor below it; the colour is the verdict.",
            [
                RatioRow(
                    lb.row_label(r), r.ratio, r.ci_low, r.ci_high, r.goal, r.noise_floor, r.verdict
                )
                for r in mine
            ],
        )
        table = Table(
            f"Data behind: {title}; interleaved in one loop per operation with an A/A pair "
            f"({first.aa or 'two raw SDK clients'})",
            [
                "Backend, operation",
                "Median candidate / reference",
                "Ratio [95% CI]",
                "A/A ratio",
                "Noise floor",
                "Rounds",
                "Verdict",
                "Why",
            ],
        )
        for r in mine:
            table.rows.append(
                [
                    lb.row_label(r),
                    f"{fmt(r.candidate_median_s * 1000)} / {fmt(r.reference_median_s * 1000)} ms",
                    f"{r.ratio:.3f} [{r.ci_low:.3f}, {r.ci_high:.3f}]",
                    f"{r.aa_ratio:.3f}",
                    f"{r.noise_floor:.1%}",
                    str(r.rounds),
                    verdict_cell(r.verdict, r.measured),
                    r.reason.split(": ", 1)[-1],
                ]
            )
        figures.append(Figure(Markup(svg), table))
    return figures


def pool_figures(points: list[PoolPoint]) -> list[Figure]:
    """The connection-pool sweep (bench/pool.json): per backend and operation, ops/s over
    concurrent callers, one line per pool size (STORAGE_MAX_CONNECTIONS), and the table
    with each worker count's best pool size marked."""
    groups: dict[tuple[str, str, int], list[PoolPoint]] = {}
    for p in points:
        groups.setdefault((p.backend, p.operation, p.size_bytes), []).append(p)
    order: dict[str, int] = {b: i for i, b in enumerate(BACKENDS)}
    figures = []
    for (backend, operation, size), pts in sorted(
        groups.items(), key=lambda item: (order.get(item[0][0], 99), item[0][1:])
    ):
        lines: dict[str, list[tuple[float, float]]] = {}
        for p in sorted(pts, key=lambda q: (q.max_connections, q.workers)):
            lines.setdefault(f"pool {p.max_connections}", []).append((p.workers, p.ops_per_s))
        where = BACKEND_LABELS.get(backend, backend)
        title = f"Connection pool: {where}, {lb.op_label(operation, size)} (ops/s)"
        best = {
            w: max((p for p in pts if p.workers == w), key=lambda q: q.ops_per_s)
            for w in sorted({p.workers for p in pts})
        }
        note = "; ".join(
            f"{w} workers: best pool {b.max_connections} ({fmt(b.ops_per_s)} ops/s)"
            for w, b in best.items()
        )
        smoke = not all(p.measured for p in pts)
        if smoke:
            note += " (smoke run: a few operations per point, a plumbing check, not a speed)"
        svg = line_chart(
            f"pool-{backend}-{operation}-{size}",
            title,
            f"{title}: ops/s at each number of concurrent callers (threads), one line per "
            f"connection pool size. {note}.",
            lines,
            "ops/s",
            "workers",
        )
        table = Table(
            f"Data behind: {title}",
            ["Pool size", "Workers", "Rounds", "Operations", "ops/s (median)", "Retries", ""],
            note=note,
        )
        for p in sorted(pts, key=lambda q: (q.max_connections, q.workers)):
            table.rows.append(
                [
                    str(p.max_connections),
                    str(p.workers),
                    str(p.rounds),
                    str(p.ops),
                    fmt(p.ops_per_s),
                    str(p.retries),
                    "best" if best[p.workers] is p else "",
                ]
            )
        figures.append(Figure(Markup(svg), table))
    return figures
