"""The report's plainer sections as tables: what was assessed, regressions, resilience,
migration, load, checks, suites, services and the environment."""

from __future__ import annotations

import re
from typing import Any

from crownsafe.redaction import MARKER
from harness.report.findings import RegressionLine, Verdict
from harness.report.view.model import Cell, Table
from harness.report.view.svg import fmt
from harness.runfolder import RunData
from harness.runfolder.compatibility import MatrixCell

__all__ = [
    "assessed_table",
    "check_tables",
    "compatibility_table",
    "environment_label",
    "environment_table",
    "generic_tables",
    "regression_tables",
    "resilience_tables",
    "services_table",
    "suite_tables",
]

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


def check_tables(run: RunData) -> list[Table]:
    """One table per area (API, security): a row per promise, a column per backend, each
    cell kept or broken; the detail is the first broken cell's failure, else the promise."""
    tables = []
    for area, checks in run.checks.items():
        backends = list(dict.fromkeys(c.backend for c in checks))
        by_name: dict[str, dict[str, Any]] = {}
        for check in checks:
            by_name.setdefault(check.name, {})[check.backend] = check
        rows: list[list[Cell | str]] = []
        for name, cells in by_name.items():
            broken = [c for c in cells.values() if not c.passed]
            row: list[Cell | str] = [name]
            for backend in backends:
                found = cells.get(backend)
                if found is None:
                    row.append(Cell("not run", "muted"))
                else:
                    row.append(Cell("kept", "pass") if found.passed else Cell("broken", "fail"))
            detail = broken[0].detail if broken else next(iter(cells.values())).detail
            rows.append([*row, detail])
        kept = sum(c.passed for c in checks)
        tables.append(
            Table(
                f"{area.upper() if area == 'api' else area.title()} promises",
                ["Promise", *backends, "Detail"],
                rows,
                note=f"{kept} of {len(checks)} kept (promise x backend).",
            )
        )
    return tables


def suite_tables(run: RunData) -> list[Table]:
    if not run.suites:
        return []
    summary = Table(
        "Suite results per suite and backend",
        ["Suite", "Backend", "Passed", "Failed", "Skipped", "Known gap", "Result"],
        note="Known gap: a test that failed the way its target's known-gaps file documents "
        "(an xfail); counted once here, in what was assessed and in the notes.",
    )
    failures = Table("Failed tests", ["Suite", "Test", "Backend", "Message"])
    for suite in run.suites:
        for backend in suite.backend_names():
            n = suite.counts(backend)
            result = Cell("FAIL", "fail") if n["failed"] else Cell("pass", "pass")
            if n["other"]:  # an XPASS: an intermittent known gap that did not show
                result = Cell(f"{result.text} ({n['other']} known gap(s) passed)", result.cls)
            summary.rows.append(
                [
                    suite.suite,
                    backend,
                    str(n["passed"]),
                    Cell(str(n["failed"]), "fail" if n["failed"] else ""),
                    str(n["skipped"]),
                    str(n["known_gap"]),
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


STATUS_CLS = {"passed": "pass", "failed": "fail", "undecided": "warn", "not assessed": "warn"}


def assessed_table(verdict: Verdict) -> Table:
    """What was assessed: each item the run profile requires, on which backends, result."""
    table = Table(
        f"What was assessed, against the run profile {verdict.profile!r}",
        ["Required", "On backends", "Assessed on", "Result", "Detail"],
    )
    for item in verdict.items:
        table.rows.append(
            [
                item.label,
                ", ".join(item.required_backends) or "any",
                ", ".join(item.assessed_backends) or "none",
                Cell(item.status, STATUS_CLS[item.status]),
                item.detail,
            ]
        )
    return table


def regression_tables(groups: dict[str, list[RegressionLine]]) -> list[Table]:
    """Regressions by operation, each with its size and the one baseline it is against."""
    return [
        Table(
            f"Regressions: {operation}",
            ["Benchmark", "Change", "Against"],
            [[r.name, Cell(r.change, "fail"), f"baseline {r.baseline}"] for r in lines],
        )
        for operation, lines in groups.items()
    ]


CELL_REASON_SHOWN = 100
"""A cell's reason longer than this is cut in the cell; the whole of it is its title."""

CELL_CLS = {
    "kept": "pass",
    "broken": "fail",
    "known_gap": "warn",
    "gap_closed": "fail",
    "not_run": "muted",
}


def _cell_reason(cell: MatrixCell) -> str:
    """Why a cell is what it is: a gap's behaviour and date, else the recorded detail (a
    failure, a skip reason such as "not selected: this target runs the security promises
    only" or "unsafe known gap ..."); "" for a kept promise."""
    if cell.gap and cell.occurrence is not None:
        shown, ran = cell.occurrence.shown, cell.occurrence.ran
        return (
            f"intermittent: {cell.gap.behaviour}; showed in {shown} of {ran} "
            f"test{'s' if ran != 1 else ''} this run; seen {cell.gap.seen}"
        )
    if cell.gap and cell.status in ("known_gap", "gap_closed"):
        return f"{cell.gap.behaviour}; seen {cell.gap.seen}"
    if cell.status == "kept":
        return ""
    return cell.detail


SHARED_REASON_CELLS = 3
"""From this many not-run cells with one reason, a target's reason is said once, in the note."""


def compatibility_table(run: RunData) -> Table | None:
    """The compatibility matrix: each contract promise x each target that ran."""
    matrix = run.compatibility
    if matrix is None:
        return None
    names = [t.name for t in matrix.targets]
    index = {(c.promise, c.target): c for c in matrix.cells}
    table = Table(
        "Compatibility matrix: each storage promise on each target (kept; broken; known gap: "
        "fails the way its gap profile documents; gap closed: a known gap now kept; not run)",
        ["Promise", *names],
        note="; ".join(
            f"{t}: " + ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in totals.items() if n)
            for t, totals in matrix.totals.items()
        ),
    )
    # A reason every not-run cell of a target shares (its scope: "this target runs the
    # security promises only") is said once, under the table, not in each of its cells.
    shared: dict[str, str] = {}
    for name in names:
        reasons = [
            _cell_reason(c) for c in matrix.cells if c.target == name and c.status == "not_run"
        ]
        if len(reasons) >= SHARED_REASON_CELLS and len(set(reasons)) == 1 and reasons[0]:
            shared[name] = reasons[0]
    if shared:
        scopes = "; ".join(f"{name}: not run = {why}" for name, why in shared.items())
        table.note = f"{table.note}. {scopes}" if table.note else scopes
    for promise, summary in matrix.promises.items():
        row: list[Cell | str] = [f"{promise}: {summary}" if summary else promise]
        for name in names:
            cell = index.get((promise, name))
            status = cell.status if cell else "not_run"
            reason = _cell_reason(cell) if cell else "no cell for this target in compatibility.json"
            shown = status.replace("_", " ")
            if reason and not (status == "not_run" and shared.get(name) == reason):
                cut = reason[: CELL_REASON_SHOWN - 3].rstrip() + "..."
                shown += f" ({reason if len(reason) <= CELL_REASON_SHOWN else cut})"
            row.append(Cell(shown, CELL_CLS[status], title=reason))
        table.rows.append(row)
    return table
