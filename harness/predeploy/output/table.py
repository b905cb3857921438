"""The table people read: one line per check, the fix hint under each failure, then one
summary line with the outcome and the exit code. Plain aligned text (no terminal library:
CI logs show it as it is)."""

from __future__ import annotations

from harness.predeploy.model import PredeployReport

__all__ = ["render_table"]

_LABELS = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP", "planned": "PLAN"}


def render_table(report: PredeployReport) -> str:
    width = max([len("CHECK"), *(len(check.id) for check in report.checks)])
    lines = [f"crownsafe predeploy: {report.target}", f"{'STATUS':<6}  {'CHECK':<{width}}  DETAIL"]
    for check in report.checks:
        lines.append(f"{_LABELS[check.status]:<6}  {check.id:<{width}}  {check.message}")
        if check.status == "failed" and check.hint:
            lines.append(f"{'':<6}  {'':<{width}}  fix: {check.hint}")
    counts = ", ".join(f"{n} {status}" for status, n in report.counts.items() if n)
    lines.append(
        f"predeploy: {report.outcome} ({counts}) in {report.duration_s:.2f} s, "
        f"exit {report.exit_code}"
    )
    if report.probes_left:
        lines.append(f"predeploy: probe blobs NOT deleted: {', '.join(report.probes_left)}")
    return "\n".join(lines) + "\n"
