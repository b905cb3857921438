"""`compatibility.json`: which contract promise each target keeps (the targets' matrix).

Written by the targets plugin (`harness.targets`) at the end of a contract run, read by
the report. A promise a target did not run is a `not_run` cell, never an absent one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from harness.runfolder._base import RunFile

__all__ = [
    "CELL_STATUSES",
    "CellStatus",
    "CompatibilityFile",
    "GapNote",
    "GapOccurrence",
    "MatrixCell",
    "MatrixTarget",
]

CellStatus = Literal["kept", "broken", "known_gap", "gap_closed", "not_run"]
CELL_STATUSES: tuple[CellStatus, ...] = ("kept", "broken", "known_gap", "gap_closed", "not_run")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MatrixTarget(_Model):
    name: str = Field(description="backend:implementation, e.g. s3:localstack")
    backend: str
    description: str
    profile: str = Field(description="the known-gaps file file used ('' when none)")
    scope: Literal["contract", "security"] = Field(
        description="contract: every promise ran on it; security: only the SAS promises (the "
        "tests marked `sas`, run on --sas-targets)"
    )


class GapNote(_Model):
    """The profile entry behind a known_gap / gap_closed / unsafe not_run cell."""

    behaviour: str
    evidence: str
    seen: str
    mode: Literal["harmless", "unsafe"]
    intermittent: bool = Field(
        default=False,
        description="the gap shows only in some runs: a pass is not 'gap closed'",
    )


class GapOccurrence(_Model):
    """How often an intermittent gap showed in this run's tests of one cell."""

    shown: int = Field(ge=0, description="tests that failed the documented way")
    ran: int = Field(ge=0, description="tests that ran (passed or failed the documented way)")


class MatrixCell(_Model):
    promise: str
    target: str
    status: CellStatus
    tests: list[str] = Field(default_factory=list, description="node ids behind this cell")
    detail: str = Field(default="", description="why (failure, skip reason); no secrets")
    gap: GapNote | None = None
    occurrence: GapOccurrence | None = Field(
        default=None, description="an intermittent gap: in how many of its tests it showed"
    )


class CompatibilityFile(RunFile):
    """Which contract promise each target keeps: one cell per promise x target."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    FILE = "compatibility.json"

    generated_at: datetime
    targets: list[MatrixTarget]
    promises: dict[str, str] = Field(description="promise id -> the promise in one line")
    cells: list[MatrixCell]
    totals: dict[str, dict[str, int]] = Field(description="target -> status -> cells")

    def cell(self, promise: str, target: str) -> MatrixCell:
        for cell in self.cells:
            if (cell.promise, cell.target) == (promise, target):
                return cell
        raise KeyError((promise, target))
