"""The report's API table names how an upload_vs_direct result was sent (its mode)."""

from __future__ import annotations

from harness.report.verdict import _api_figures
from harness.report.view.tables import api_table
from harness.runfolder.bench import ApiBenchFile, ApiBenchResult


def _result(mode: str | None, ratio: float) -> ApiBenchResult:
    return ApiBenchResult(
        test="upload_vs_direct", backend="s3", size_bytes=10 * 2**20, mode=mode,
        api_mb_s=50.0, direct_mb_s=100.0, ratio=ratio, goal_ratio=0.8, goal_met=False,
        measured=True, rounds=10,
    )  # fmt: skip


def test_each_mode_is_its_own_row() -> None:
    table = api_table([_result("raw", 0.6), _result("multipart", 0.5), _result(None, 0.4)])
    labels = [row[0] for row in table.rows]
    assert labels == [
        "upload vs direct 10 MiB",
        "upload vs direct 10 MiB (multipart)",
        "upload vs direct 10 MiB (raw)",
    ]
    assert "= 0.600x" in str(table.rows[2][2])
    assert "0.6x" in _api_figures(_result("raw", 0.6))


def test_modes_are_distinct_results_in_the_file() -> None:
    assert "mode" in ApiBenchFile.IDENTITY
