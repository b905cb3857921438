"""The report's "crownsafe overhead" section: ops/s ratios against their goals, and the
peak RSS of a large streamed upload (bench/ratios.json, bench/memory.json).

The verdicts are the benchmark's own (rules in harness/overhead.py); the report shows them
with every number they rest on, and `analysis.verdict` turns a goal that is "not met"
into a reason the run is not ready (an "undecided" one into a note).
"""

from __future__ import annotations

from markupsafe import Markup

from harness.report import analysis as an
from harness.report.model import Run
from harness.report.svg import RatioRow, fmt, ratio_chart
from harness.report.tables import Cell, Figure, Table

__all__ = ["memory_table", "ratio_figures"]

VERDICT_CLS = {"met": "pass", "not met": "fail", "undecided": "warn"}


def _verdict(verdict: str, measured: bool) -> Cell:
    text = verdict if measured else f"{verdict} (smoke run)"
    return Cell(text, VERDICT_CLS.get(verdict, "warn"))


def ratio_figures(run: Run) -> list[Figure]:
    """One chart and the table behind it per comparison in bench/ratios.json."""
    figures: list[Figure] = []
    rows = an.ordered_ratios(run)
    for comparison in dict.fromkeys(r.comparison for r in rows):
        mine = [r for r in rows if r.comparison == comparison]
        first = mine[0]
        name = an.comparison_label(first)
        goal = f">= {first.goal:g}" + (f" ({first.goal_source})" if first.goal_source else "")
        title = f"ops/s ratio {name}, goal {goal}"
        svg = ratio_chart(
            f"overhead-{len(figures)}",
            f"{name}: ops/s ratio",
            f"{title}. Each row: the ratio with its 95% CI, the goal and the A/A noise "
            "floor below it; the colour is the verdict.",
            [
                RatioRow(
                    an.row_label(r), r.ratio, r.ci_low, r.ci_high, r.goal, r.noise_floor, r.verdict
                )
                for r in mine
            ],
        )
        table = Table(
            f"Data behind: {title}; interleaved in one loop per operation with an A/A pair "
            "of two raw SDK clients",
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
                    an.row_label(r),
                    f"{fmt(r.candidate_median_s * 1000)} / {fmt(r.reference_median_s * 1000)} ms",
                    f"{r.ratio:.3f} [{r.ci_low:.3f}, {r.ci_high:.3f}]",
                    f"{r.aa_ratio:.3f}",
                    f"{r.noise_floor:.1%}",
                    str(r.rounds),
                    _verdict(r.verdict, r.measured),
                    r.reason.split(": ", 1)[-1],
                ]
            )
        figures.append(Figure(Markup(svg), table))
    return figures


def memory_table(run: Run) -> Table:
    table = Table(
        "Peak resident memory added by one upload streamed from a file, measured in a fresh "
        "process (kernel high-water mark reset just before the upload); goal: less than the "
        "object's size",
        ["Upload", "Peak RSS increase", "Goal", "Before / peak RSS", "Method", "Verdict"],
    )
    for p in run.bench.memory:
        table.rows.append(
            [
                an.memory_label(p),
                f"+{fmt(p.peak_rss_increase_bytes / an.MIB)} MiB",
                f"< {an.size_label(p.goal_bytes)}" if p.goal_bytes else "n/a",
                f"{fmt(p.baseline_rss_bytes / an.MIB)} / {fmt(p.peak_rss_bytes / an.MIB)} MiB",
                p.method,
                _verdict(p.verdict, p.measured),
            ]
        )
    return table
