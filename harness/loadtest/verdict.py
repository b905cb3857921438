"""The command's verdict over its backends: exit code, breach lines, the summary table.

What breaks a run is the run folder's rule (`harness.runfolder.load.LoadRun.
broken_promises`, the same the report applies). Exit 0 only when every backend ran and
no run broke a promise; 1 on a breach (each named with its measured value); 2 a usage
error (also an SLO file locust refused); 3 could not run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.table import Table

from harness.loadtest.runner import BackendOutcome
from harness.runfolder.load import LoadRun

__all__ = [
    "EXIT_BREACH",
    "EXIT_COULD_NOT_RUN",
    "EXIT_OK",
    "EXIT_USAGE",
    "breaches",
    "exit_code",
    "json_summary",
    "summary_table",
]

EXIT_OK, EXIT_BREACH, EXIT_USAGE, EXIT_COULD_NOT_RUN = 0, 1, 2, 3


def breaches(run: LoadRun) -> list[str]:
    """One line per broken promise of one run: the run folder's one rule
    (`LoadRun.broken_promises`), which the report's verdict reads too."""
    return run.broken_promises()


def exit_code(outcomes: Sequence[BackendOutcome]) -> int:
    if any(o.usage_error and o.run is None for o in outcomes):
        return EXIT_USAGE
    if not outcomes or any(o.run is None for o in outcomes):
        return EXIT_COULD_NOT_RUN
    return EXIT_BREACH if any(breaches(o.run) for o in outcomes if o.run) else EXIT_OK


def _fmt(value: float | None, unit: str = "") -> str:
    return "-" if value is None else f"{value:.0f}{unit}" if value >= 100 else f"{value:.3g}{unit}"


def summary_table(outcomes: Sequence[BackendOutcome]) -> Table:
    """Per backend: requests, failures, RPS, p95/p99, SLOs held, knee, peak RSS, verdict."""
    table = Table(title="Load per backend")
    columns = ("backend", "mode", "requests", "failed", "req/s", "p95 ms", "p99 ms", "SLOs")
    for column in (*columns, "knee", "app RSS", "result"):
        table.add_column(
            column, justify="left" if column in ("backend", "mode", "result") else "right"
        )
    for outcome in outcomes:
        run = outcome.run
        if run is None:
            table.add_row(outcome.backend, "-", *["-"] * 8, "could not run", style="red")
            continue
        total = run.total()
        if run.steps:  # a step load is judged per step: how many steps held their SLOs
            held_steps = sum(step.slos_passed for step in run.steps)
            slos = f"{held_steps}/{len(run.steps)} steps"
        else:
            overall = [s for s in run.slos if s.step is None]
            slos = f"{sum(s.passed for s in overall)}/{len(overall)}"
        knee = "-"
        if run.knee is not None:
            knee = f"{run.knee.users} users" if run.knee.users is not None else "none"
            knee += " (generator saturated)" if run.generator_saturated else ""
        app = next((r for r in run.resources if r.role == "app"), None)
        bad = bool(breaches(run))
        table.add_row(
            run.backend,
            run.mode,
            str(total.requests),
            str(total.failures),
            _fmt(total.rps),
            _fmt(total.p95_ms),
            _fmt(total.p99_ms),
            slos,
            knee,
            _fmt(app.peak_rss_mib if app else None, " MiB"),
            "breached" if bad else "passed",
            style="red" if bad else None,
        )
    return table


def json_summary(
    outcomes: Sequence[BackendOutcome], code: int, run_dir: str, load_json: str | None
) -> dict[str, Any]:
    """The `--json` document: exit code, breaches, per backend the run or its error."""
    return {
        "exit_code": code,
        "run_dir": run_dir,
        "load_json": load_json,
        "breaches": [line for o in outcomes if o.run for line in breaches(o.run)],
        "backends": [
            {
                "backend": o.backend,
                "error": o.error,
                "locust_exit": o.locust_exit,
                "run": o.run.model_dump(mode="json") if o.run else None,
            }
            for o in outcomes
        ],
    }
