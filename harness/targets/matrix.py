"""`compatibility.json`: which contract promise each target keeps, as one typed model.

Self-contained on purpose (pydantic only): the run-folder package will own one model per
file, and a reader must not need the harness's plugin to load it. `build_matrix` turns the
per-test outcomes into cells; every (promise, target) pair of the run has exactly one cell,
so a promise a target did not run shows as `not_run` instead of being absent.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CELL_STATUSES",
    "SCHEMA_VERSION",
    "CellStatus",
    "CompatibilityMatrix",
    "GapNote",
    "MatrixCell",
    "MatrixTarget",
    "Outcome",
    "build_matrix",
]

SCHEMA_VERSION: Literal[1] = 1
CellStatus = Literal["kept", "broken", "known_gap", "gap_closed", "not_run"]
CELL_STATUSES: tuple[CellStatus, ...] = ("kept", "broken", "known_gap", "gap_closed", "not_run")
# When several tests make one cell, the worst decides.
_SEVERITY = {"broken": 4, "gap_closed": 3, "known_gap": 2, "not_run": 1, "kept": 0}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MatrixTarget(_Model):
    name: str = Field(description="backend:implementation, e.g. s3:localstack")
    backend: str
    description: str
    profile: str = Field(description="the gap profile file used ('' when none)")
    scope: Literal["contract", "security"] = Field(
        description="contract: every promise ran on it; security: only the security ones"
    )


class GapNote(_Model):
    """The profile entry behind a known_gap / gap_closed / unsafe not_run cell."""

    behaviour: str
    evidence: str
    seen: str
    mode: Literal["harmless", "unsafe"]


class MatrixCell(_Model):
    promise: str
    target: str
    status: CellStatus
    tests: list[str] = Field(default_factory=list, description="node ids behind this cell")
    detail: str = Field(default="", description="why (failure, skip reason); no secrets")
    gap: GapNote | None = None


class Outcome(_Model):
    """One test's result as the plugin saw it, the input of `build_matrix`."""

    nodeid: str
    promise: str
    target: str
    status: CellStatus
    detail: str = ""
    gap: GapNote | None = None


class CompatibilityMatrix(_Model):
    schema_version: Literal[1] = SCHEMA_VERSION
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

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(self.model_dump_json(indent=2) + "\n")
        tmp.replace(path)
        return path

    @classmethod
    def read(cls, path: Path) -> CompatibilityMatrix:
        return cls.model_validate_json(path.read_text())


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
    return MatrixCell(
        promise=promise,
        target=target.name,
        status=worst.status,
        tests=sorted(o.nodeid for o in found),
        detail=worst.detail,
        gap=worst.gap,
    )


if __name__ == "__main__":
    import json

    print(json.dumps(CompatibilityMatrix.model_json_schema(), indent=2))
