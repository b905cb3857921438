"""compatibility.json's model: one cell per promise x target, the worst outcome wins."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from harness.runfolder import read_file, write_file
from harness.targets.matrix import (
    CompatibilityMatrix,
    GapNote,
    MatrixTarget,
    Outcome,
    build_matrix,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
MOTO = MatrixTarget(name="s3:moto", backend="s3", description="m", profile="p", scope="contract")
LOCALSTACK = MatrixTarget(
    name="s3:localstack", backend="s3", description="l", profile="", scope="security"
)


def _outcome(promise: str, target: str, status: str, nodeid: str = "") -> Outcome:
    return Outcome.model_validate(
        {
            "nodeid": nodeid or f"t.py::{promise}[{target}]",
            "promise": promise,
            "target": target,
            "status": status,
        }
    )


def test_every_pair_has_a_cell_and_missing_ones_say_why() -> None:
    matrix = build_matrix(
        [MOTO, LOCALSTACK],
        {"test_a": "A.", "test_b": "B."},
        [
            _outcome("test_a", "s3:moto", "kept"),
            _outcome("test_a", "s3:localstack", "kept"),
            _outcome("test_b", "s3:moto", "known_gap"),
        ],
        now=NOW,
    )
    assert len(matrix.cells) == 4
    missing = matrix.cell("test_b", "s3:localstack")
    assert missing.status == "not_run" and "security promises only" in missing.detail
    assert matrix.totals["s3:moto"] == {
        "kept": 1,
        "broken": 0,
        "known_gap": 1,
        "gap_closed": 0,
        "not_run": 0,
    }


def test_the_worst_outcome_of_a_cells_tests_wins() -> None:
    outcomes = [
        _outcome("test_a", "s3:moto", "kept", "x[1KiB]"),
        _outcome("test_a", "s3:moto", "broken", "x[1MiB]"),
        _outcome("test_a", "s3:moto", "known_gap", "x[2MiB]"),
    ]
    cell = build_matrix([MOTO], {"test_a": ""}, outcomes, now=NOW).cell("test_a", "s3:moto")
    assert cell.status == "broken"
    assert cell.tests == ["x[1KiB]", "x[1MiB]", "x[2MiB]"]


def test_round_trips_through_json_with_its_schema_version(tmp_path: Path) -> None:
    gap = GapNote(behaviour="b", evidence="e", seen="2026-12-01", mode="harmless")
    outcome = _outcome("test_a", "s3:moto", "known_gap").model_copy(update={"gap": gap})
    matrix = build_matrix([MOTO], {"test_a": "A."}, [outcome], now=NOW)
    path = write_file(tmp_path, matrix)
    assert path.name == "compatibility.json"
    assert json.loads(path.read_text())["schema_version"] == 1
    assert read_file(tmp_path, "compatibility.json", CompatibilityMatrix) == matrix
