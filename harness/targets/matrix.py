"""Building `compatibility.json` from the per-test outcomes (the model is in
`harness.runfolder.compatibility`, with the run folder's other files).

`build_matrix` turns the outcomes into cells; every (promise, target) pair of the run has
exactly one cell, so a promise a target did not run shows as `not_run` instead of being
absent; when several tests make one cell, the worst decides. A cell of an intermittent gap
counts in how many of its tests the gap showed (`occurrence`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict

from harness.runfolder.compatibility import (
    CELL_STATUSES,
    CellStatus,
    CompatibilityFile,
    GapNote,
    GapOccurrence,
    MatrixCell,
    MatrixTarget,
)

__all__ = [
    "CELL_STATUSES",
    "CellStatus",
    "CompatibilityMatrix",
    "GapNote",
    "MatrixCell",
    "MatrixTarget",
    "Outcome",
    "build_matrix",
]

CompatibilityMatrix = CompatibilityFile
_SEVERITY = {"broken": 4, "gap_closed": 3, "known_gap": 2, "not_run": 1, "kept": 0}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Outcome(_Model):
    """One test's result as the plugin saw it, the input of `build_matrix`."""

    nodeid: str
    promise: str
    target: str
    status: CellStatus
    detail: str = ""
    gap: GapNote | None = None
    gap_shown: bool | None = None
    """For a test of an intermittent gap that ran: whether the gap showed (None otherwise)."""


def build_matrix(
    targets: Iterable[MatrixTarget],
    promises: dict[str, str],
    outcomes: Iterable[Outcome],
    *,
    now: datetime | None = None,
) -> CompatibilityMatrix:
    """One cell per promise x target; the worst outcome of a cell's tests wins."""
    targets = list(targets)
    grouped: dict[tuple[str, str], list[Outcome]] = {}
    for outcome in outcomes:
        grouped.setdefault((outcome.promise, outcome.target), []).append(outcome)
    cells: list[MatrixCell] = []
    for promise in sorted(promises):
        for target in targets:
            found = grouped.get((promise, target.name), [])
            cells.append(_cell(promise, target, found))
    totals: dict[str, dict[str, int]] = {
        t.name: {s: sum(c.status == s and c.target == t.name for c in cells) for s in CELL_STATUSES}
        for t in targets
    }
    return CompatibilityMatrix(
        generated_at=now or datetime.now(UTC),
        targets=targets,
        promises=dict(sorted(promises.items())),
        cells=cells,
        totals=totals,
    )


def _cell(promise: str, target: MatrixTarget, found: list[Outcome]) -> MatrixCell:
    if not found:
        why = (
            "not selected: this target runs the security promises only"
            if target.scope == "security"
            else "not collected for this target in this run"
        )
        return MatrixCell(promise=promise, target=target.name, status="not_run", detail=why)
    worst = max(found, key=lambda o: _SEVERITY[o.status])
    ran = [o.gap_shown for o in found if o.gap_shown is not None]
    occurrence = GapOccurrence(shown=sum(ran), ran=len(ran)) if ran else None
    return MatrixCell(
        promise=promise,
        target=target.name,
        status=worst.status,
        tests=sorted(o.nodeid for o in found),
        detail=worst.detail,
        gap=worst.gap,
        occurrence=occurrence,
    )
