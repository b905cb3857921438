"""Goals stated as a time added (bench/added_time.json, the security guards' +1 ms): the
report's table, and the verdict that reads them with the one rule (`decide_added`)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.report import analyse, build_report, read_inputs
from harness.report.view.tables import added_time_table
from harness.runfolder.bench import AddedTime

GOLDEN = Path(__file__).resolve().parents[4] / "fixtures" / "golden_runs"
MS = 0.001


def _entry(backend: str, difference: float, low: float, high: float, **kw: object) -> AddedTime:
    values: dict[str, object] = dict(
        backend=backend, operation="share_create", comparison="guards_on_vs_off",
        candidate="on", reference="off", goal_s=MS, measured=True, rounds=400,
        candidate_median_s=0.0103, reference_median_s=0.0100, difference_s=difference,
        ci_low_s=low, ci_high_s=high, aa_difference_s=0.00005, noise_floor_s=0.0002,
        verdict="met", reason="as stored",
    )  # fmt: skip
    return AddedTime.model_validate(values | kw)


def test_the_table_shows_medians_difference_floor_and_goal_in_ms() -> None:
    (row,) = added_time_table([_entry("azure", 0.0003, 0.0001, 0.0005)]).rows
    assert row[0] == "Azure Create a share link: rate limits + audit on / off"
    assert row[1] == "10.3 / 10.0 ms"
    assert row[2] == "+0.300 [+0.100, +0.500] ms"
    assert row[4] == "0.200 ms" and row[5] == "<= +1 ms" and row[6] == "400"


def _run_with(tmp_path: Path, *entries: AddedTime) -> Path:
    run = tmp_path / "run"
    shutil.copytree(GOLDEN / "full_pass", run)
    document = {"comparisons": [e.model_dump(mode="json") for e in entries]}
    (run / "bench" / "added_time.json").write_text(json.dumps(document))
    return run


def test_a_missed_added_time_goal_makes_the_run_not_ready(tmp_path: Path) -> None:
    """Stored as "met", judged by its numbers: CI low 1.6 ms > 1 ms + the 0.2 ms floor."""
    run = _run_with(tmp_path, _entry("s3", 2 * MS, 1.6 * MS, 2.4 * MS))
    verdict = analyse(read_inputs(run)).verdict
    assert verdict.outcome == "not ready"
    (reason,) = [r for r in verdict.reasons if "<= +1 ms" in r]
    assert reason.startswith("performance goal S3 Create a share link: rate limits + audit")
    assert "not met: +2.000 ms" in reason


@pytest.mark.parametrize(
    ("difference", "low", "high", "noted"), [(0.3 * MS, 0.1 * MS, 0.5 * MS, False),
                                             (0.9 * MS, 0.1 * MS, 1.9 * MS, True)],
)  # fmt: skip
def test_a_met_goal_leaves_the_run_ready_and_an_undecided_one_is_a_note(
    tmp_path: Path, difference: float, low: float, high: float, noted: bool
) -> None:
    run = _run_with(tmp_path, _entry("azure", difference, low, high))
    verdict = analyse(read_inputs(run)).verdict
    assert verdict.outcome == "ready", verdict.reasons
    assert any("<= +1 ms on the median undecided" in n for n in verdict.notes) == noted


def test_the_rendered_report_holds_the_added_time_table(tmp_path: Path) -> None:
    run = _run_with(tmp_path, _entry("azure", 0.3 * MS, 0.1 * MS, 0.5 * MS))
    html = build_report(run).path.read_text()
    assert "What the security guards add" in html
    assert "+0.300 [+0.100, +0.500] ms" in html
