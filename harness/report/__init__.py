"""The HTML report, one way: read inputs -> analyse -> view -> render.

- `read_inputs(run_dir, baseline) -> ReportInput`: the validated run folder(s) (harness.runfolder)
- `analyse(ReportInput) -> Findings`: every number and the verdict, computed once
- `view(Findings) -> Page`: figures and tables, formatted
- `render(Page) -> str`: the self-contained HTML page (Jinja2)

No stage calls one before it; `build_report` and `render_run` chain them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.report.analysis import analyse
from harness.report.findings import Findings, Verdict
from harness.report.inputs import ReportInput, read_inputs
from harness.report.render import render, write_page
from harness.report.verdict import verdict_lines
from harness.report.view import Page, view

__all__ = [
    "Findings",
    "Page",
    "Report",
    "ReportInput",
    "Verdict",
    "analyse",
    "build_report",
    "read_inputs",
    "render",
    "render_run",
    "verdict_lines",
    "view",
]


@dataclass
class Report:
    path: Path
    findings: Findings


def build_report(
    run_dir: Path,
    baseline: Path | None = None,
    out: Path | None = None,
    *,
    profile: str | Path | None = None,
) -> Report:
    """Render `run_dir` (against `baseline`, judged by `profile`) into `out` (default
    `run_dir/index.html`)."""
    findings = analyse(read_inputs(run_dir, baseline, profile))
    target = write_page(view(findings), out or Path(run_dir) / "index.html")
    return Report(target, findings)


def render_run(run_dir: Path, baseline: Path | None = None, out: Path | None = None) -> Path:
    return build_report(run_dir, baseline, out).path
