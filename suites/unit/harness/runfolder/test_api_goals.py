"""ApiBenchResult.missed_goals: the API upload's goals against its floor and its ceiling
(issue 19), decided on the recorded numbers, boundaries included; `split_cpu`, the fixed
and per-MiB parts of a cost measured at two sizes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.report.findings import Verdict
from harness.report.profile import read_run_profile
from harness.report.verdict import verdict
from harness.runfolder import RunData
from harness.runfolder.bench import ApiBenchResult, split_cpu


def _upload(**change: Any) -> ApiBenchResult:
    fields: dict[str, Any] = dict(
        test="upload_vs_direct", backend="azure", size_bytes=10 * 2**20, mode="raw",
        measured=True, api_mb_s=60.0, direct_mb_s=100.0, ratio=0.6,
        app_cpu_ms_per_mib=3.0, floor_cpu_ms_per_mib=2.0, floor_ratio=1.5,
        goal_floor_ratio=2.0, aim_floor_ratio=1.5, api_cpu_ms_per_mib=10.0,
        direct_cpu_ms_per_mib=6.0, cpu_ceiling=0.6, goal_ceiling_fraction=0.9,
        split_from_bytes=2**20, app_fixed_ms=8.0, app_per_mib_ms=2.0, floor_fixed_ms=0.5,
        floor_per_mib_ms=1.25, per_mib_ratio=1.6, aim_fixed_ms=5.0,
    )  # fmt: skip
    fields.update(change)
    return ApiBenchResult(**fields)


def test_within_both_goals_nothing_is_missed() -> None:
    assert _upload().missed_goals() == []


def test_exactly_twice_the_floors_per_mib_is_met_and_a_hair_above_is_not() -> None:
    assert _upload(per_mib_ratio=2.0, app_per_mib_ms=2.5).missed_goals() == []
    missed = _upload(per_mib_ratio=2.001, app_per_mib_ms=2.501).missed_goals()
    assert missed == [
        "app CPU 2.501 ms/MiB beyond its fixed 8.0 ms per upload = 2.001x the floor's "
        "1.25 ms/MiB > 2x"
    ]


def test_the_gate_is_the_per_mib_part_not_the_whole_cost_per_mib() -> None:
    """A large fixed part (here 4x the floor per MiB in all) does not miss the floor goal:
    it is reported per upload, beside its aim."""
    assert _upload(floor_ratio=4.0, app_fixed_ms=30.0).missed_goals() == []


def test_the_smaller_size_has_no_floor_gate() -> None:
    small = _upload(size_bytes=2**20, goal_floor_ratio=None, floor_ratio=6.0, per_mib_ratio=None)
    assert small.missed_goals() == []


def test_a_gated_entry_without_its_split_misses_its_goal() -> None:
    assert _upload(per_mib_ratio=None).missed_goals() == [
        "no split of the CPU into fixed and per-MiB parts (the smaller size of the same "
        "backend and mode must run in the same run)"
    ]


def test_the_aims_are_shown_not_gated() -> None:
    assert _upload(per_mib_ratio=1.9, app_fixed_ms=9.0).missed_goals() == []


def test_split_cpu_is_the_line_through_two_sizes() -> None:
    fixed, per_mib = split_cpu(1.0, 11.0, 10.0, 29.0)
    assert (round(fixed, 9), round(per_mib, 9)) == (9.0, 2.0)
    with pytest.raises(ValueError, match="second larger"):
        split_cpu(10.0, 29.0, 1.0, 11.0)


def test_wall_ratio_at_exactly_its_fraction_of_the_ceiling_is_met() -> None:
    assert _upload(ratio=0.54, cpu_ceiling=0.6).missed_goals() == []
    missed = _upload(ratio=0.539, cpu_ceiling=0.6).missed_goals()
    assert missed == ["wall ratio 0.539x (60.0 vs 100.0 MB/s) < 0.9 x its CPU ceiling 0.6x = 0.54x"]


def test_the_old_08x_goal_is_gone_a_05x_wall_ratio_under_a_055x_ceiling_is_met() -> None:
    assert _upload(ratio=0.5, cpu_ceiling=0.55).missed_goals() == []


def test_both_goals_missed_are_both_named() -> None:
    missed = _upload(per_mib_ratio=3.0, ratio=0.3).missed_goals()
    assert len(missed) == 2 and "> 2x" in missed[0] and "CPU ceiling" in missed[1]


@pytest.mark.parametrize("absent", ["ratio", "cpu_ceiling", "goal_ceiling_fraction"])
def test_an_upload_result_without_its_cpu_figures_misses_its_goal(absent: str) -> None:
    assert _upload(**{absent: None}).missed_goals() == [
        "no CPU measurement against the floor (rerun benchmarks/test_bench_api.py)"
    ]


def test_other_tests_keep_their_recorded_goal() -> None:
    concurrent = ApiBenchResult(
        test="concurrent_uploads", backend="s3", goal_met=False, app_peak_rss_growth_mib=171.0,
        goal_rss_mib=100.0, health_p99_ms=20.0, goal_p99_ms=100.0,
    )  # fmt: skip
    assert concurrent.missed_goals() == [
        "app RSS +171.0 MiB (goal < 100.0), /health p99 20.0 ms (goal < 100.0)"
    ]
    assert ApiBenchResult(test="share_resolution", backend="s3").missed_goals() == []


def _judge(*results: ApiBenchResult) -> Verdict:
    run = RunData(path=Path("unused"))
    run.bench.api = list(results)
    return verdict(run, read_run_profile(), load=[])


def test_a_measured_miss_is_a_reason_with_its_numbers_and_a_smoke_miss_is_not() -> None:
    reasons = _judge(_upload(per_mib_ratio=2.4, backend="s3")).reasons
    assert (
        "API goal upload_vs_direct 10 MiB raw [s3] not met: app CPU 2.0 ms/MiB beyond its "
        "fixed 8.0 ms per upload = 2.4x" in " ".join(reasons)
    )
    assert not [r for r in _judge(_upload(per_mib_ratio=2.4, measured=False)).reasons if "API" in r]
