"""The report's benchmark tables: the seed table, statistics, RSS, prices, memory, gate."""

from __future__ import annotations

from harness.bench import cost
from harness.report import labels as lb
from harness.report.findings import SEED_ROWS, BaselineRow, OpStats
from harness.report.view.figures import est_ms, finding_cell, ratio_cell, verdict_cell
from harness.report.view.model import Cell, Table
from harness.report.view.svg import fmt
from harness.runfolder import RunData
from harness.runfolder.bench import AddedTime, ApiBenchResult, MemoryPoint, ScrapePoint

__all__ = [
    "added_time_table",
    "api_table",
    "baseline_table",
    "gate_table",
    "memory_table",
    "price_table",
    "rss_table",
    "scrape_table",
    "seed_table",
    "stats_table",
]


def seed_table(rows: list[OpStats], prices: dict[str, cost.ProviderPrices]) -> Table:
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
    for seed in SEED_ROWS:
        row = by_key.get((seed.operation, seed.size_bytes))
        measured: list[Cell | str] = (
            [
                est_ms(row.median.get("s3")),
                est_ms(row.median.get("azure")),
                ratio_cell(row),
                finding_cell(row),
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


def stats_table(rows: list[OpStats]) -> Table:
    table = Table(
        "Azure against S3 per operation: ratio of medians with 95% bootstrap CI, Mann-Whitney "
        "U p-value, Cliff's delta; a difference is called only when the CI excludes 1 and "
        "the ratio exceeds the noise floor of that operation's own A/A pairs (the larger of "
        "its two backends'; the run's largest A/A floor only where no A/A pair measured it, "
        "as the Noise floor column says)",
        [
            "Operation",
            "n (Azure / S3)",
            "Azure / S3 [CI]",
            "p (Mann-Whitney)",
            "Cliff's delta",
            "Noise floor",
            "Verdict",
            "Samples from",
        ],
    )
    for r in rows:
        c = r.comparison
        src = "; ".join(f"{b}: {s}" for b, s in sorted(r.source.items()))
        if c is None:
            table.rows.append(
                [
                    r.label,
                    "-",
                    "n/a",
                    "n/a",
                    "n/a",
                    f"{r.noise_floor:.1%} ({r.noise_source})",
                    Cell(r.finding, "muted"),
                    src,
                ]
            )
            continue
        table.rows.append(
            [
                r.label,
                f"{c.n_a} / {c.n_b}",
                f"{fmt(c.ratio.value)} [{fmt(c.ratio.low)}, {fmt(c.ratio.high)}]",
                f"{c.p_value:.2g}",
                f"{c.effect_size:+.2f} ({c.magnitude})",
                f"{r.noise_floor:.1%} ({r.noise_source})",
                Cell(r.finding, "" if c.verdict == "same" else "strong"),
                src,
            ]
        )
    return table


def rss_table(run: RunData) -> Table:
    table = Table(
        "Peak resident memory added while streaming one large object (above the resident set "
        "just before; memory the process already held and reused is not counted)",
        ["Backend", "Operation", "Size", "Peak RSS added", "MiB per MiB moved"],
    )
    for p in run.bench.rss:
        table.rows.append(
            [
                p.backend,
                p.operation,
                lb.size_label(p.size_bytes),
                f"{fmt(p.peak_rss_delta_bytes / lb.MIB)} MiB",
                fmt(p.rss_mib_per_mib),
            ]
        )
    return table


def price_table(prices: dict[str, cost.ProviderPrices]) -> Table:
    table = Table(
        "Price table (harness/bench/prices.toml) and the source of each figure",
        [
            "Provider",
            "Storage / GB-month",
            "Egress / GB",
            "Writes / 10,000",
            "Reads / 10,000",
            "Sources",
        ],
    )
    for p in prices.values():
        sources = "; ".join(f"{k}: {v}" for k, v in p.sources.items())
        table.rows.append(
            [
                p.label,
                f"${p.storage_gb_month}",
                f"${p.egress_gb}",
                f"${p.write_ops_per_10k}",
                f"${p.read_ops_per_10k}",
                sources,
            ]
        )
    return table


def gate_table(run: RunData) -> Table | None:
    gate = run.bench.gate
    if gate is None:
        return None
    table = Table(
        f"Regression gate against {gate.baseline or 'the baseline'}: threshold "
        f"{gate.threshold:.0%}, noise floor {gate.noise_floor:.1%}, {gate.compared} compared",
        ["Benchmark", "Baseline median", "This run", "Ratio", "Reason"],
        note="passed" if gate.passed else "FAILED",
    )
    for r in gate.regressions:
        table.rows.append(
            [
                r.name,
                f"{fmt(r.baseline_median_s * 1000)} ms",
                f"{fmt(r.median_s * 1000)} ms",
                Cell(fmt(r.ratio), "fail"),
                r.reason,
            ]
        )
    return table


def baseline_table(rows: list[BaselineRow] | None, baseline: RunData) -> Table:
    table = Table(
        f"This run against the baseline run {baseline.path.name} (ratio = this / "
        "baseline; above 1 = slower now)",
        ["Benchmark", "Baseline median", "This run", "Ratio [CI]", "Verdict"],
    )
    for r in rows or []:
        c = r.comparison
        ratio = (
            f"{fmt(c.ratio.value)} [{fmt(c.ratio.low)}, {fmt(c.ratio.high)}]"
            if c
            else fmt(r.median_s / r.baseline_median_s if r.baseline_median_s else None)
        )
        verdict = (
            Cell("REGRESSION", "fail") if r.regression else Cell(c.verdict if c else "medians only")
        )
        table.rows.append(
            [
                r.name,
                f"{fmt(r.baseline_median_s * 1000)} ms",
                f"{fmt(r.median_s * 1000)} ms",
                ratio,
                verdict,
            ]
        )
    return table


def memory_table(points: list[MemoryPoint]) -> Table:
    table = Table(
        "Peak resident memory added by one upload streamed from a file, measured in a fresh "
        "process (kernel high-water mark reset just before the upload); goal: less than the "
        "object's size",
        ["Upload", "Peak RSS increase", "Goal", "Before / peak RSS", "Method", "Verdict"],
    )
    for p in points:
        table.rows.append(
            [
                lb.memory_label(p),
                f"+{fmt(p.peak_rss_increase_bytes / lb.MIB)} MiB",
                f"< {lb.size_label(p.goal_bytes)}" if p.goal_bytes else "n/a",
                f"{fmt(p.baseline_rss_bytes / lb.MIB)} / {fmt(p.peak_rss_bytes / lb.MIB)} MiB",
                p.method,
                verdict_cell(p.verdict, p.measured),
            ]
        )
    return table


def added_time_table(rows: list[AddedTime]) -> Table:
    """bench/added_time.json: what one app adds to another's median time per request (the
    security guards: rate limits and the audit trail on, against both off)."""
    table = Table(
        "Time added to the median (p50) of a request, per backend (emulators): the candidate "
        "and the reference app timed in one loop, one request each per round in a rotating "
        "balanced order, beside an A/A twin of the candidate; difference of medians with a "
        "95% bootstrap CI over whole rounds; the noise floor is how far the A/A pair differs",
        [
            "Request",
            "Median candidate / reference",
            "Added [95% CI]",
            "A/A difference",
            "Noise floor",
            "Goal",
            "Rounds",
            "Verdict",
            "Why",
        ],
    )

    def ms(seconds: float) -> str:
        return f"{seconds * 1000:+.3f}"

    for a in rows:
        table.rows.append(
            [
                lb.added_label(a),
                f"{fmt(a.candidate_median_s * 1000)} / {fmt(a.reference_median_s * 1000)} ms",
                f"{ms(a.difference_s)} [{ms(a.ci_low_s)}, {ms(a.ci_high_s)}] ms",
                f"{ms(a.aa_difference_s)} ms",
                f"{a.noise_floor_s * 1000:.3f} ms",
                f"<= +{a.goal_s * 1000:g} ms",
                str(a.rounds),
                verdict_cell(a.verdict, a.measured),
                a.reason.split(": ", 1)[-1],
            ]
        )
    return table


def api_table(results: list[ApiBenchResult]) -> Table:
    """The API benchmarks per backend: uploads through the app against direct uploads,
    concurrent uploads (memory and /health latency), share-link resolution."""
    table = Table(
        "The API under load, per backend (emulators): upload through the API, its CPU per MiB "
        "against the floors (an empty app on the same server reading the same bodies, and "
        "the same app forwarding them to a loopback sink); the larger size splits the app's "
        "CPU into a fixed part per upload (aim <= 5 ms) and a part per MiB (goal <= 2x the "
        "floor's, aim 1.5x); its MB/s against the storage client directly, beside the "
        "ceiling the CPU allows (direct CPU / API CPU; goal >= 0.9x of it), 16 concurrent "
        "10 MiB uploads (goal: app RSS +<100 MiB, /health p99 <100 ms), share-link "
        "resolution beside /health",
        ["Benchmark", "Backend", "Measured", "Goal", "Result"],
    )
    for r in sorted(results, key=lambda r: (r.test, r.size_bytes or 0, r.mode or "", r.backend)):
        size = f" {lb.size_label(r.size_bytes)}" if r.size_bytes else ""
        if r.mode:
            size += f" ({r.mode})"
        if r.test == "upload_vs_direct":
            measured = (
                f"app {fmt(r.app_cpu_ms_per_mib)} vs floor {fmt(r.floor_cpu_ms_per_mib)} "
                f"(forwarding {fmt(r.forward_cpu_ms_per_mib)}) CPU ms/MiB = "
                f"{fmt(r.floor_ratio)}x; "
            )
            if r.per_mib_ratio is not None:
                measured += (
                    f"split: app {fmt(r.app_fixed_ms)} ms/upload + {fmt(r.app_per_mib_ms)} "
                    f"ms/MiB vs floor {fmt(r.floor_fixed_ms)} + {fmt(r.floor_per_mib_ms)} "
                    f"(forwarding {fmt(r.forward_fixed_ms)} + {fmt(r.forward_per_mib_ms)}): "
                    f"per MiB {fmt(r.per_mib_ratio)}x; "
                )
            measured += (
                f"{fmt(r.api_mb_s)} vs {fmt(r.direct_mb_s)} MB/s = {fmt(r.ratio)}x, CPU "
                f"ceiling {fmt(r.cpu_ceiling)}x ({fmt(r.direct_cpu_ms_per_mib)} / "
                f"{fmt(r.api_cpu_ms_per_mib)} ms/MiB)"
            )
            floor_goal = (
                f"per MiB <= {fmt(r.goal_floor_ratio)}x floor (aim {fmt(r.aim_floor_ratio)}x), "
                f"fixed aim <= {fmt(r.aim_fixed_ms)} ms; "
                if r.goal_floor_ratio is not None
                else f"floor ratio reported (aim {fmt(r.aim_floor_ratio)}x); "
            )
            goal = f"{floor_goal}>= {fmt(r.goal_ceiling_fraction)}x ceiling"
        elif r.test == "concurrent_uploads":
            measured = (
                f"{r.uploads} uploads: RSS +{fmt(r.app_peak_rss_growth_mib)} MiB, "
                f"/health p99 {fmt(r.health_p99_ms)} ms"
            )
            goal = f"< {fmt(r.goal_rss_mib)} MiB, < {fmt(r.goal_p99_ms)} ms"
        else:
            measured = f"{fmt(r.share_rps)} req/s vs /health {fmt(r.health_rps)} req/s"
            goal = "reported"
        met = not r.missed_goals()
        if r.goal_met is None and r.test != "upload_vs_direct":
            result = Cell("reported", "muted")
        elif not r.measured:
            result = Cell(f"{'met' if met else 'not met'} (smoke run)", "warn")
        else:
            result = Cell("met", "pass") if met else Cell("not met", "fail")
        table.rows.append([f"{r.test.replace('_', ' ')}{size}", r.backend, measured, goal, result])
    return table


def scrape_table(points: list[ScrapePoint]) -> Table:
    """`GET /metrics` under load per backend: the p99 with its CI beside the goal."""
    table = Table(
        "A scrape of /metrics under load, per backend (emulators): one keep-alive "
        "connection with a bearer token, one scrape at a time on a fixed pace, while a "
        "process of its own sends the app a steady mix of uploads, share resolutions, "
        "/health and job-status requests; the database holds the jobs shown. p99 with its "
        "95% CI (order statistics): met when the CI lies below the goal, not met when it "
        "lies above, else undecided. Beside it the floor, /health timed right after each "
        "scrape (what any request took at that moment), and the app's CPU per scrape "
        "measured after the load",
        ["Backend", "p99 [95% CI]", "Goal", "p50 / p90 / max", "/health right after: "
         "p50 / p99", "Scrapes", "App CPU per scrape", "Exposition", "Load meanwhile",
         "Verdict"],
    )  # fmt: skip
    for p in points:
        low = "-" if p.ci_low_ms is None else fmt(p.ci_low_ms)
        high = "-" if p.ci_high_ms is None else fmt(p.ci_high_ms)
        load = f"{fmt(p.load_rps)} req/s, {p.jobs_in_database:,} jobs in the database"
        if p.load_failures:
            load += f", {p.load_failures} failed"
        if p.load_average is not None:
            load += f"; machine load average {fmt(p.load_average)}"
        table.rows.append(
            [
                lb.BACKEND_LABELS.get(p.backend, p.backend),
                Cell(f"{fmt(p.p99_ms)} ms [{low}, {high}]", title=p.reason),
                f"< {fmt(p.goal_p99_ms)} ms",
                f"{fmt(p.p50_ms)} / {fmt(p.p90_ms)} / {fmt(p.max_ms)} ms",
                "n/a"
                if p.health_p99_ms is None
                else f"{fmt(p.health_p50_ms)} / {fmt(p.health_p99_ms)} ms",
                f"{p.scrapes:,} every {fmt(p.interval_s * 1000)} ms"
                + (f", {p.failed_scrapes} failed" if p.failed_scrapes else ""),
                "n/a" if p.app_cpu_ms_per_scrape is None else f"{fmt(p.app_cpu_ms_per_scrape)} ms",
                f"{p.exposition_bytes:,} bytes, {p.series:,} series",
                load,
                verdict_cell(p.verdict, p.measured),
            ]
        )
    return table
