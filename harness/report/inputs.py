"""read_inputs(run_dir, baseline) -> ReportInput: the validated run folder(s) the report reads."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.report.profile import RunProfile, read_run_profile
from harness.runfolder import RunData, read_run

__all__ = ["ReportInput", "read_inputs"]


@dataclass(frozen=True)
class ReportInput:
    run: RunData
    baseline: RunData | None = None
    profile: RunProfile | None = None


def read_inputs(
    run_dir: Path, baseline: Path | None = None, profile: str | Path | None = None
) -> ReportInput:
    """The run folder, the optional baseline folder (every file validated) and the run
    profile (`None`: the default profile; ProfileError when it does not exist or parse)."""
    return ReportInput(
        run=read_run(Path(run_dir)),
        baseline=read_run(Path(baseline)) if baseline is not None else None,
        profile=read_run_profile(profile) if profile is not None else None,
    )
