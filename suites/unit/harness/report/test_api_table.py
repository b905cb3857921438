"""The report's API table: how an upload_vs_direct result was sent (its mode), and its
CPU per MiB against the floor beside its wall ratio and that ratio's CPU ceiling."""

from __future__ import annotations

from harness.report.view.tables import api_table
from harness.runfolder.bench import ApiBenchFile, ApiBenchResult


def _result(mode: str | None, ratio: float, floor_ratio: float = 1.8) -> ApiBenchResult:
    return ApiBenchResult(
        test="upload_vs_direct", backend="s3", size_bytes=10 * 2**20, mode=mode,
        api_mb_s=50.0, direct_mb_s=100.0, ratio=ratio, measured=True, rounds=10,
        app_cpu_ms_per_mib=round(1.5 * floor_ratio, 3), floor_cpu_ms_per_mib=1.5,
        floor_ratio=floor_ratio, goal_floor_ratio=2.0, aim_floor_ratio=1.5,
        api_cpu_ms_per_mib=8.0, direct_cpu_ms_per_mib=4.0, cpu_ceiling=0.5,
        goal_ceiling_fraction=0.9, cpu_calls=48,
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


def test_the_row_shows_the_floor_and_the_ceiling_beside_their_goals() -> None:
    table = api_table([_result("raw", 0.6, floor_ratio=2.4)])
    measured, goal, result = (str(cell) for cell in table.rows[0][2:5])
    assert "app 3.60 vs floor 1.50 CPU ms/MiB = 2.40x" in measured
    assert "50.0 vs 100 MB/s = 0.600x, CPU ceiling 0.500x (4.00 / 8.00 ms/MiB)" in measured
    assert goal == "<= 2.00x floor (aim 1.50x); >= 0.900x ceiling"
    assert "not met" in result
    assert "0.8x" not in table.caption


def test_a_result_within_both_goals_is_met() -> None:
    assert "not met" not in str(api_table([_result("raw", 0.45)]).rows[0][4])


def test_modes_are_distinct_results_in_the_file() -> None:
    assert "mode" in ApiBenchFile.IDENTITY
