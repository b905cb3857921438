"""`summary.json`: how `crownsafe-harness run` ended: its stages, counts and verdict.

The same document `run --json` prints on stdout, so CI can read the outcome without
parsing the console or the HTML.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.runfolder._base import Record, RunFile

__all__ = ["RunSummaryFile", "StageRecord", "StagesFile", "SuiteRow"]


class StageRecord(Record):
    name: str
    ok: bool
    seconds: float
    detail: str = ""


class StagesFile(RunFile):
    """`stages.json`: the stages of `crownsafe-harness run` that have ended, written after
    each one, so the judge (and so the report stage, `report` and `bench --gate-only`)
    sees a stage that failed without leaving a result file of its own."""

    FILE = "stages.json"

    stages: list[StageRecord] = Field(default_factory=list)

    def broken_promises(self) -> list[str]:
        """One reason per failed stage."""
        return [
            f"stage {s.name} failed: {s.detail}" if s.detail else f"stage {s.name} failed"
            for s in self.stages
            if not s.ok
        ]


class SuiteRow(Record):
    suite: str
    backend: str
    passed: int = 0
    failed: int = 0
    error: int = 0
    skipped: int = 0
    known_gap: int = Field(
        0,
        description="xfailed tests: each failed the way its target's known-gaps file documents "
        "(the report's and the console's 'known gap')",
    )
    xpassed: int = 0


class RunSummaryFile(RunFile):
    FILE = "summary.json"

    outcome: Literal["ready", "not ready", "incomplete"]
    exit_code: int = Field(description="0 ready, 1 not ready (or a stage failed), 3 incomplete")
    profile: str
    reasons: list[str] = Field(default_factory=list, description="why not ready")
    missing: list[str] = Field(default_factory=list, description="what was not assessed")
    stages: list[StageRecord] = Field(default_factory=list)
    suites: list[SuiteRow] = Field(default_factory=list)
    run_dir: str
    report: str | None = None
