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
        goal_ceiling_fraction=0.9, cpu_calls=48, forward_cpu_ms_per_mib=1.75,
        split_from_bytes=2**20, app_fixed_ms=8.0, app_per_mib_ms=2.0, floor_fixed_ms=0.5,
        floor_per_mib_ms=1.25, forward_fixed_ms=0.75, forward_per_mib_ms=1.5,
        per_mib_ratio=round(floor_ratio, 3), aim_fixed_ms=5.0,
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


def test_the_row_shows_the_floors_the_split_and_the_ceiling_beside_their_goals() -> None:
    table = api_table([_result("raw", 0.6, floor_ratio=2.4)])
    measured, goal, result = (str(cell) for cell in table.rows[0][2:5])
    assert "app 3.60 vs floor 1.50 (forwarding 1.75) CPU ms/MiB = 2.40x" in measured
    assert (
        "split: app 8.00 ms/upload + 2.00 ms/MiB vs floor 0.500 + 1.25 (forwarding 0.750 + "
        "1.50): per MiB 2.40x" in measured
    )
    assert "50.0 vs 100 MB/s = 0.600x, CPU ceiling 0.500x (4.00 / 8.00 ms/MiB)" in measured
    assert goal == ("per MiB <= 2.00x floor (aim 1.50x), fixed aim <= 5.00 ms; >= 0.900x ceiling")
    assert "not met" in result
    assert "0.8x" not in table.caption


def test_the_smaller_size_reports_its_floor_ratio_without_a_floor_goal() -> None:
    small = _result("raw", 0.6, floor_ratio=6.0).model_copy(
        update={"size_bytes": 2**20, "goal_floor_ratio": None, "per_mib_ratio": None}
    )
    measured, goal, result = (str(cell) for cell in api_table([small]).rows[0][2:5])
    assert "split" not in measured and "= 6.00x" in measured
    assert goal == "floor ratio reported (aim 1.50x); >= 0.900x ceiling"
    assert "not met" not in result


def test_a_result_within_both_goals_is_met() -> None:
    assert "not met" not in str(api_table([_result("raw", 0.45)]).rows[0][4])


def test_modes_are_distinct_results_in_the_file() -> None:
    assert "mode" in ApiBenchFile.IDENTITY
