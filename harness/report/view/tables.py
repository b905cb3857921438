"""The report's tables: the seed table, statistics, and the plainer sections."""

from __future__ import annotations

import re
from typing import Any

from crownsafe.redaction import MARKER
from harness import cost
from harness.report import labels as lb
from harness.report.findings import SEED_ROWS, BaselineRow, OpStats
from harness.report.view.figures import est_ms, finding_cell, ratio_cell, verdict_cell
from harness.report.view.model import Cell, Table
from harness.report.view.svg import fmt
from harness.runfolder import RunData
from harness.runfolder.bench import MemoryPoint


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


SECRET_KEY = re.compile(r"(key|secret|password|token|credential|connection_?string|sig)", re.I)
OUTCOME_CLS = {"ok": "pass", "recovered": "pass", "failed": "warn", "lost": "fail"}


def _scalar(value: Any) -> str:
    if isinstance(value, float):
        return fmt(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _pass_cell(passed: bool) -> Cell:
    return Cell("passed", "pass") if passed else Cell("failed", "fail")


def stats_table(rows: list[OpStats]) -> Table:
    table = Table(
        "Azure against S3 per operation: ratio of medians with 95% bootstrap CI, Mann-Whitney "
        "U p-value, Cliff's delta; a difference is called only when the CI excludes 1 and "
        "the ratio exceeds the A/A noise floor",
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
        "Price table (harness/data/prices.toml) and the source of each figure",
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


def resilience_tables(run: RunData) -> list[Table]:
    res = run.resilience
    if res is None:
        return []
    tables = []
    summary = res.summary.model_dump()
    tables.append(
        Table(
            "Resilience summary",
            ["Measure", "Value"],
            [[str(k), _scalar(v)] for k, v in summary.items() if not isinstance(v, dict | list)],
        )
    )
    columns = sorted({(c.operation, c.backend) for c in res.cells})
    faults = sorted({c.fault for c in res.cells})
    index = {(c.fault, c.operation, c.backend): c for c in res.cells}
    matrix = Table(
        "Resilience matrix: fault x operation x backend. recovered = succeeded after retries; "
        "failed = raised a typed error in time (no data harmed); lost = data lost or corrupted",
        ["Fault", *[f"{op} [{b}]" for op, b in columns]],
    )
    for fault in faults:
        row: list[Any] = [fault]
        for op, b in columns:
            c = index.get((fault, op, b))
            if c is None:
                row.append(Cell("-", "muted"))
                continue
            row.append(
                Cell(
                    f"{c.outcome} ({c.calls} calls, {c.attempts} attempts)", OUTCOME_CLS[c.outcome]
                )
            )
        matrix.rows.append(row)
    if res.cells:
        tables.append(matrix)
    if res.checks:
        tables.append(
            Table(
                "Resilience checks",
                ["Check", "Backend", "Result", "Detail"],
                [[c.name, c.backend, _pass_cell(c.passed), c.detail] for c in res.checks],
            )
        )
    return tables


def generic_tables(data: dict[str, Any] | None, title: str) -> list[Table]:
    """Scalars as a key/value table per section; lists of objects as their own tables."""
    if not data:
        return []
    tables = []

    def walk(obj: dict[str, Any], name: str) -> None:
        scalars: list[list[Cell | str]] = [
            [k, _scalar(v)] for k, v in obj.items() if not isinstance(v, dict | list)
        ]
        if scalars:
            tables.append(Table(name, ["Measure", "Value"], scalars))
        for k, v in obj.items():
            if isinstance(v, dict):
                walk(v, f"{name}: {k}")
            elif isinstance(v, list) and v and all(isinstance(i, dict) for i in v):
                headers = list(dict.fromkeys(h for item in v for h in item))
                tables.append(
                    Table(
                        f"{name}: {k}",
                        headers,
                        [[_scalar(i.get(h, "")) for h in headers] for i in v],
                    )
                )
            elif isinstance(v, list):
                tables.append(Table(f"{name}: {k}", ["Value"], [[_scalar(i)] for i in v]))

    walk(data, title)
    return tables


def load_tables(run: RunData) -> list[Table]:
    if run.load is None:
        return []
    info = run.load.model_dump(include={"tool", "users", "duration_s"}, exclude_none=True)
    tables = generic_tables(info, "Load run")
    ep = Table(
        "Load results per endpoint",
        ["Endpoint", "Backend", "Requests", "Failures", "Requests/s", "p50", "p95", "p99"],
    )
    for e in run.load.endpoints:
        ep.rows.append(
            [
                e.name,
                e.backend,
                str(e.requests),
                Cell(str(e.failures), "fail" if e.failures else ""),
                fmt(e.rps),
                f"{fmt(e.p50_ms)} ms",
                f"{fmt(e.p95_ms)} ms",
                f"{fmt(e.p99_ms)} ms",
            ]
        )
    slo = Table("Service level objectives", ["SLO", "Result", "Observed"])
    for s in run.load.slos:
        slo.rows.append(
            [
                s.name,
                Cell("met" if s.passed else "missed", "pass" if s.passed else "fail"),
                s.detail,
            ]
        )
    return tables + [t for t in (ep, slo) if t.rows]


def check_tables(run: RunData) -> list[Table]:
    return [
        Table(
            f"{area.upper() if area == 'api' else area.title()} checks",
            ["Check", "Backend", "Result", "Detail"],
            [
                [
                    c.name,
                    c.backend,
                    Cell("passed" if c.passed else "failed", "pass" if c.passed else "fail"),
                    c.detail,
                ]
                for c in checks
            ],
        )
        for area, checks in run.checks.items()
    ]


def suite_tables(run: RunData) -> list[Table]:
    if not run.suites:
        return []
    summary = Table(
        "Suite results per suite and backend",
        ["Suite", "Backend", "Passed", "Failed", "Skipped", "Other", "Result"],
    )
    failures = Table("Failed tests", ["Suite", "Test", "Backend", "Message"])
    for suite in run.suites:
        for backend in suite.backend_names():
            n = suite.counts(backend)
            result = Cell("FAIL", "fail") if n["failed"] else Cell("pass", "pass")
            summary.rows.append(
                [
                    suite.suite,
                    backend,
                    str(n["passed"]),
                    Cell(str(n["failed"]), "fail" if n["failed"] else ""),
                    str(n["skipped"]),
                    str(n["other"]),
                    result,
                ]
            )
        for t in suite.failures():
            failures.rows.append([suite.suite, t.nodeid, t.backend or "-", t.message[:600]])
    return [summary] + ([failures] if failures.rows else [])


def services_table(run: RunData) -> Table:
    services = run.services
    ready = services.parallel_ready_s if services else None
    note = f"parallel start ready in {fmt(ready)} s" if ready else ""
    return Table(
        "Services started for this run",
        ["Service", "Mode", "Ready after"],
        [[s.name, s.mode, f"{fmt(s.ready_s)} s"] for s in (services.services if services else [])],
        note,
    )


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


def _flatten(obj: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(obj, dict):
        return [
            kv
            for k, v in obj.items()
            for kv in _flatten(v, f"{prefix}{k}" if not prefix else f"{prefix}.{k}")
        ]
    if isinstance(obj, list):
        return [(prefix, ", ".join(_scalar(v) for v in obj))]
    return [(prefix, _scalar(obj))]


def environment_table(run: RunData) -> Table:
    rows: list[list[Cell | str]] = [
        [k, MARKER if SECRET_KEY.search(k.rsplit(".", 1)[-1]) else v]
        for k, v in _flatten(run.environment.as_dict())
    ]
    machine = run.bench.machine_info
    for key in ("cpu.brand_raw", "python_version", "python_implementation"):
        head, _, tail = key.partition(".")
        value = machine.get(head, {}).get(tail) if tail else machine.get(head)
        if value:
            rows.append([f"benchmark machine: {key}", str(value)])
    return Table("Environment fingerprint", ["Item", "Value"], rows)


def environment_label(emulated: bool) -> str:
    """The plain label on the numbers: emulators unless the run used external endpoints."""
    if not emulated:
        return (
            "Measured against external endpoints named by environment variables: check the "
            "environment section before reading these numbers as a cloud region's."
        )
    return (
        "Emulator numbers, not cloud numbers: measured against local emulators (Azurite for "
        "Azure, moto for S3) over the loopback interface on this machine. They compare the "
        "client stacks side by side; they say nothing about Azure's or AWS's latency, "
        "throughput or network."
    )


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
