"""The table people read: one line per check, the fix hint under each failure, then one
summary line with the outcome and the exit code. Plain aligned text where CI reads it
(pipes, log files); a rich table on a terminal."""

from __future__ import annotations

from typing import TextIO

from harness.predeploy.model import PredeployResult

__all__ = ["print_table", "render_table"]

_LABELS = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP", "planned": "PLAN"}


def render_table(report: PredeployResult, reason: str | None = None) -> str:
    """The table; its last line is the outcome and the exit code (with `reason`, why)."""
    width = max([len("CHECK"), *(len(check.id) for check in report.checks)])
    lines = [f"crownsafe predeploy: {report.target}", f"{'STATUS':<6}  {'CHECK':<{width}}  DETAIL"]
    for check in report.checks:
        lines.append(f"{_LABELS[check.status]:<6}  {check.id:<{width}}  {check.message}")
        if check.status == "failed" and check.hint:
            lines.append(f"{'':<6}  {'':<{width}}  fix: {check.hint}")
    counts = ", ".join(f"{n} {status}" for status, n in report.counts.items() if n)
    if report.probes_left:
        lines.append(f"predeploy: probe blobs NOT deleted: {', '.join(report.probes_left)}")
    lines.append(
        f"predeploy: {report.outcome} ({counts}) in {report.duration_s:.2f} s, "
        f"exit {report.exit_code}" + (f": {reason}" if reason else "")
    )
    return "\n".join(lines) + "\n"


def print_table(report: PredeployResult, stream: TextIO, reason: str | None = None) -> None:
    """On a terminal a rich table (colours); elsewhere (CI logs, pipes) the plain text."""
    if not stream.isatty():
        stream.write(render_table(report, reason))
        return
    from rich.console import Console
    from rich.table import Table

    styles = {"passed": "green", "failed": "bold red", "skipped": "yellow", "planned": "cyan"}
    table = Table(title=f"crownsafe predeploy: {report.target}", title_justify="left")
    for column in ("STATUS", "CHECK", "DETAIL"):
        table.add_column(column, overflow="fold")
    for check in report.checks:
        detail = check.message + (f"\nfix: {check.hint}" if check.status == "failed" else "")
        label = f"[{styles[check.status]}]{_LABELS[check.status]}[/]"
        table.add_row(label, check.id, detail, end_section=False)
    console = Console(file=stream, highlight=False)
    console.print(table, markup=True)
    for line in render_table(report, reason).splitlines()[-2 if report.probes_left else -1 :]:
        console.print(line, markup=False)
