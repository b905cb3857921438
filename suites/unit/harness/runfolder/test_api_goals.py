"""ApiBenchResult.missed_goals: the API upload's goals against its floor and its ceiling
(issue 19), decided on the recorded numbers, boundaries included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.report.findings import Verdict
from harness.report.profile import read_run_profile
from harness.report.verdict import verdict
from harness.runfolder import RunData
from harness.runfolder.bench import ApiBenchResult


def _upload(**change: Any) -> ApiBenchResult:
    fields: dict[str, Any] = dict(
        test="upload_vs_direct", backend="azure", size_bytes=10 * 2**20, mode="raw",
        measured=True, api_mb_s=60.0, direct_mb_s=100.0, ratio=0.6,
        app_cpu_ms_per_mib=3.0, floor_cpu_ms_per_mib=2.0, floor_ratio=1.5,
        goal_floor_ratio=2.0, aim_floor_ratio=1.5, api_cpu_ms_per_mib=10.0,
        direct_cpu_ms_per_mib=6.0, cpu_ceiling=0.6, goal_ceiling_fraction=0.9,
    )  # fmt: skip
    fields.update(change)
    return ApiBenchResult(**fields)


def test_within_both_goals_nothing_is_missed() -> None:
    assert _upload().missed_goals() == []


def test_exactly_twice_the_floor_is_met_and_a_hair_above_is_not() -> None:
    assert _upload(floor_ratio=2.0, app_cpu_ms_per_mib=4.0).missed_goals() == []
    missed = _upload(floor_ratio=2.001, app_cpu_ms_per_mib=4.002).missed_goals()
    assert missed == ["app CPU 4.002 ms/MiB = 2.001x the floor's 2.0 ms/MiB > 2x"]


def test_the_aim_is_shown_not_gated() -> None:
    assert _upload(floor_ratio=1.9).missed_goals() == []


def test_wall_ratio_at_exactly_its_fraction_of_the_ceiling_is_met() -> None:
    assert _upload(ratio=0.54, cpu_ceiling=0.6).missed_goals() == []
    missed = _upload(ratio=0.539, cpu_ceiling=0.6).missed_goals()
    assert missed == ["wall ratio 0.539x (60.0 vs 100.0 MB/s) < 0.9 x its CPU ceiling 0.6x = 0.54x"]


def test_the_old_08x_goal_is_gone_a_05x_wall_ratio_under_a_055x_ceiling_is_met() -> None:
    assert _upload(ratio=0.5, cpu_ceiling=0.55).missed_goals() == []


def test_both_goals_missed_are_both_named() -> None:
    missed = _upload(floor_ratio=3.0, ratio=0.3).missed_goals()
    assert len(missed) == 2 and "> 2x" in missed[0] and "CPU ceiling" in missed[1]


@pytest.mark.parametrize("absent", ["floor_ratio", "cpu_ceiling", "goal_ceiling_fraction"])
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
    reasons = _judge(_upload(floor_ratio=2.4, backend="s3")).reasons
    assert "API goal upload_vs_direct 10 MiB raw [s3] not met: app CPU 3.0 ms/MiB = 2.4x" in (
        " ".join(reasons)
    )
    assert not [r for r in _judge(_upload(floor_ratio=2.4, measured=False)).reasons if "API" in r]
