"""load(run_dir, baseline) -> ReportInput: the validated run folder(s) the report reads."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.runfolder import RunData, load_run

__all__ = ["ReportInput", "load"]


@dataclass(frozen=True)
class ReportInput:
    run: RunData
    baseline: RunData | None = None


def load(run_dir: Path, baseline: Path | None = None) -> ReportInput:
    """The run folder and the optional baseline folder, every file validated."""
    return ReportInput(
        run=load_run(Path(run_dir)),
        baseline=load_run(Path(baseline)) if baseline is not None else None,
    )
