"""harness.bench.overhead: goal verdicts for ops/s ratios and the memory goal, and the entries."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from harness.bench import overhead
from harness.bench.stats import Estimate
from harness.runfolder.bench import AddedTime, OverheadRatio

GOAL = 0.95


def est(value: float, low: float, high: float) -> Estimate:
    return Estimate(value, low, high, 0.95)


@pytest.mark.parametrize(
    ("ratio", "floor", "verdict"),
    [
        (est(0.99, 0.97, 1.01), 0.02, "met"),  # CI well above the goal
        (est(0.95, 0.94, 0.96), 0.02, "met"),  # exactly at the goal, low 0.94 >= 0.93
        (est(0.94, 0.931, 0.949), 0.02, "undecided"),  # CI clears 0.93, point below goal
        (est(0.9499, 0.94, 0.96), 0.02, "undecided"),  # just below the goal
        (est(0.94, 0.92, 0.96), 0.02, "undecided"),  # straddles 0.93
        (est(0.90, 0.88, 0.92), 0.02, "not met"),  # high 0.92 < 0.93
        (est(0.99, 0.97, 1.01), 0.05, "undecided"),  # floor eats the whole 5% margin
        (est(0.99, 0.97, 1.01), 0.08, "undecided"),
        (est(0.80, 0.78, 0.82), 0.08, "not met"),  # conclusive even on a noisy run
    ],
)
def test_goal_verdict_rules(ratio: Estimate, floor: float, verdict: str) -> None:
    got = overhead.goal_verdict(ratio, GOAL, floor)
    assert got.verdict == verdict, got.reason
    assert f"{ratio.value:.3f}x" in got.reason


def test_a_point_estimate_below_the_goal_is_never_met() -> None:
    """0.940 against 0.95 whose CI low cleared goal - floor: undecided, and says why."""
    got = overhead.goal_verdict(est(0.940, 0.935, 0.946), GOAL, 0.02)
    assert got.verdict == "undecided"
    assert "point estimate below goal" in got.reason and "0.940x" in got.reason


def test_floor_at_or_above_the_allowed_cost_is_undecided_even_above_the_goal() -> None:
    got = overhead.goal_verdict(est(1.02, 1.0, 1.04), 0.98, 0.02)
    assert got.verdict == "undecided" and "cannot resolve" in got.reason


def test_decide_rejudges_a_stored_entry() -> None:
    """A run folder written under the old rule ("met" at 0.940) is judged by today's rule
    wherever it is read (the bench gate and the report both call `decide`)."""
    entry = OverheadRatio(
        backend="azure", operation="upload", size_bytes=1024, comparison="crownsafe_vs_raw",
        candidate="crownsafe", reference="raw", goal=GOAL, measured=True, ratio=0.940,
        ci_low=0.935, ci_high=0.946, noise_floor=0.02, verdict="met", reason="old rule",
    )  # fmt: skip
    got = overhead.decide(entry)
    assert got.verdict == "undecided" and "point estimate below goal" in got.reason
    (judged,) = overhead.judged([entry])
    assert (judged.verdict, judged.reason) == (got.verdict, got.reason)


def test_a_smoke_run_is_never_a_verdict() -> None:
    got = overhead.goal_verdict(est(0.5, 0.4, 0.6), GOAL, 0.01, measured=False)
    assert got.verdict == "undecided" and "smoke run" in got.reason


def _loop(rng: np.random.Generator, slow: float, rounds: int = 200) -> dict[str, list[float]]:
    drift = rng.lognormal(0.0, 0.03, rounds)
    return {
        impl: list(0.002 * factor * drift * rng.lognormal(0.0, 0.02, rounds))
        for impl, factor in (("raw", 1.0), ("raw_again", 1.0), ("crownsafe", slow),
                             ("resilient", slow * 1.01))
    }  # fmt: skip


@pytest.mark.parametrize(("slow", "verdict"), [(1.0, "met"), (1.3, "not met")])
def test_ratio_entry_from_interleaved_samples(slow: float, verdict: str) -> None:
    samples = _loop(np.random.default_rng(7), slow)
    comparison = overhead.COMPARISONS[0]
    entry = overhead.ratio_entry(
        comparison, samples, ("raw", "raw_again"), backend="s3", operation="upload",
        size_bytes=1024, warmup=8, measured=True,
    )  # fmt: skip
    assert entry["comparison"] == "crownsafe_vs_raw" and entry["goal"] == 0.95
    assert entry["ratio"] == pytest.approx(
        np.median(samples["raw"]) / np.median(samples["crownsafe"])
    )
    assert entry["ci_low"] <= entry["ratio"] <= entry["ci_high"]
    assert entry["ratio"] == pytest.approx(1 / slow, rel=0.03)
    assert 0 <= entry["noise_floor"] < 0.05 and entry["aa_ratio"] == pytest.approx(1, abs=0.03)
    assert entry["verdict"] == verdict and entry["rounds"] == 200
    assert len(entry["aa_first_s"]) == len(entry["candidate_s"]) == 200
    json.dumps(entry)  # plain JSON


def test_resilient_is_compared_with_the_bare_client() -> None:
    samples = _loop(np.random.default_rng(3), 1.0)
    entry = overhead.ratio_entry(
        overhead.COMPARISONS[1], samples, ("raw", "raw_again"), backend="azure",
        operation="download", size_bytes=1024, warmup=8, measured=True,
    )  # fmt: skip
    assert (entry["candidate"], entry["reference"]) == ("resilient", "crownsafe")
    assert entry["ratio"] == pytest.approx(
        np.median(samples["crownsafe"]) / np.median(samples["resilient"])
    )


@pytest.mark.parametrize(
    ("increase", "measured", "verdict"),
    [(12 << 20, True, "met"), (64 << 20, True, "not met"), (90 << 20, False, "undecided")],
)
def test_memory_entry(increase: int, measured: bool, verdict: str) -> None:
    probe = {
        "baseline_rss_bytes": 100 << 20,
        "peak_rss_bytes": (100 << 20) + increase,
        "peak_rss_increase_bytes": increase,
        "method": "kernel VmHWM",
    }
    entry = overhead.memory_entry(probe, backend="s3", size_bytes=64 << 20, measured=measured)
    assert entry["verdict"] == verdict and entry["goal_bytes"] == 64 << 20
    assert entry["peak_rss_increase_bytes"] == increase


def test_summary_lines_read_the_run_folder(tmp_path: Path) -> None:
    assert overhead.summary_lines(tmp_path) == []
    (tmp_path / "bench").mkdir()
    samples = _loop(np.random.default_rng(1), 1.0)
    entry = overhead.ratio_entry(
        overhead.COMPARISONS[0], samples, ("raw", "raw_again"), backend="azure",
        operation="upload", size_bytes=1 << 20, warmup=8, measured=True,
    )  # fmt: skip
    (tmp_path / "bench" / "ratios.json").write_text(json.dumps({"comparisons": [entry]}))
    (tmp_path / "bench" / "memory.json").write_text("not json")
    problem, line = overhead.summary_lines(tmp_path)
    assert problem.startswith("  bench/memory.json: not JSON")
    assert line.startswith("  [azure] upload 1 MiB crownsafe/raw ops/s: ")
    assert line.endswith("goal >= 0.95: MET")
    assert overhead.goals_not_met(tmp_path) == [problem.strip() + " (its goals cannot be checked)"]


MS = 0.001


@pytest.mark.parametrize(
    ("difference", "floor", "verdict"),
    [
        (est(0.3 * MS, 0.1 * MS, 0.5 * MS), 0.2 * MS, "met"),  # CI well inside +1 ms
        (est(1.0 * MS, 0.9 * MS, 1.1 * MS), 0.2 * MS, "met"),  # at the goal, high <= 1.2
        (est(1.05 * MS, 0.9 * MS, 1.15 * MS), 0.2 * MS, "undecided"),  # point above goal
        (est(0.8 * MS, 0.2 * MS, 1.6 * MS), 0.2 * MS, "undecided"),  # straddles 1.2 ms
        (est(2.0 * MS, 1.5 * MS, 2.5 * MS), 0.2 * MS, "not met"),  # low 1.5 > 1.2
        (est(0.3 * MS, 0.1 * MS, 0.5 * MS), 1.0 * MS, "undecided"),  # floor eats the 1 ms
        (est(4.0 * MS, 3.5 * MS, 4.5 * MS), 1.5 * MS, "not met"),  # conclusive when noisy
        (est(-0.5 * MS, -0.9 * MS, -0.1 * MS), 0.2 * MS, "met"),  # faster: within the goal
    ],
)
def test_added_time_verdict_rules(difference: Estimate, floor: float, verdict: str) -> None:
    got = overhead.added_time_verdict(difference, 1 * MS, floor)
    assert got.verdict == verdict, got.reason
    assert f"{difference.value * 1000:+.3f} ms" in got.reason


def test_added_time_smoke_run_is_never_a_verdict() -> None:
    got = overhead.added_time_verdict(est(9 * MS, 8 * MS, 10 * MS), MS, 0.1 * MS, measured=False)
    assert got.verdict == "undecided" and "smoke run" in got.reason


def test_decide_added_rejudges_a_stored_entry() -> None:
    entry = AddedTime(
        backend="s3", operation="share_create", comparison="guards_on_vs_off", candidate="on",
        reference="off", goal_s=MS, measured=True, difference_s=1.1 * MS, ci_low_s=0.9 * MS,
        ci_high_s=1.15 * MS, noise_floor_s=0.2 * MS, verdict="met", reason="old rule",
    )  # fmt: skip
    got = overhead.decide_added(entry)
    assert got.verdict == "undecided" and "point estimate above goal" in got.reason
    (judged,) = overhead.judged_added([entry])
    assert (judged.verdict, judged.reason) == (got.verdict, got.reason)


GUARDS = overhead.TimeGoal("guards_on_vs_off", "on", "off", MS, "issue 21")


def _guard_loop(
    rng: np.random.Generator, added: float, rounds: int = 300
) -> dict[str, list[float]]:
    drift = rng.lognormal(0.0, 0.03, rounds)
    base = 0.010 * drift
    return {
        app: list(base * rng.lognormal(0.0, 0.02, rounds) + extra)
        for app, extra in (("on", added), ("off", 0.0), ("on_again", added))
    }


@pytest.mark.parametrize(("added", "verdict"), [(0.2 * MS, "met"), (3 * MS, "not met")])
def test_added_time_entry_from_interleaved_samples(added: float, verdict: str) -> None:
    samples = _guard_loop(np.random.default_rng(11), added)
    entry = overhead.added_time_entry(
        GUARDS, samples, ("on", "on_again"), backend="azure", operation="share_create",
        size_bytes=None, warmup=20, measured=True,
    )  # fmt: skip
    assert entry["difference_s"] == pytest.approx(
        np.median(samples["on"]) - np.median(samples["off"])
    )
    assert entry["ci_low_s"] <= entry["difference_s"] <= entry["ci_high_s"]
    assert entry["difference_s"] == pytest.approx(added, abs=0.3 * MS)
    assert 0 <= entry["noise_floor_s"] < 0.5 * MS
    assert entry["verdict"] == verdict and entry["rounds"] == 300
    assert AddedTime.model_validate(entry).goal_s == MS
    json.dumps(entry)


def test_added_time_goes_to_the_summary_and_the_goal_records(tmp_path: Path) -> None:
    (tmp_path / "bench").mkdir()
    entry = overhead.added_time_entry(
        GUARDS, _guard_loop(np.random.default_rng(2), 3 * MS), ("on", "on_again"),
        backend="s3", operation="share_resolve", size_bytes=None, warmup=20, measured=True,
    )  # fmt: skip
    (tmp_path / "bench" / "added_time.json").write_text(json.dumps({"comparisons": [entry]}))
    (line,) = overhead.summary_lines(tmp_path)
    assert line.startswith("  [s3] share_resolve on - off median: +")
    assert line.endswith("goal <= +1 ms: NOT MET")
    (missed,) = overhead.goals_not_met(tmp_path)
    assert missed.startswith("[s3] share_resolve guards_on_vs_off: +")
    (record,), problems = overhead.goal_records(tmp_path)
    assert problems == [] and record["kind"] == "added_time"
    assert record["verdict"] == "not met" and record["goal_s"] == MS
