"""Pure parts of the load command: soak slope, generator saturation, merge, verdict."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from harness.loadtest.generator import apply_generator_cpu, generator_capacity_percent
from harness.loadtest.progress import last_aggregated
from harness.loadtest.record import merge_runs, write_load_file
from harness.loadtest.runner import BackendOutcome, locust_start_epoch, workers_connected
from harness.loadtest.sampling import series_window_mean
from harness.loadtest.soak import growth_mib_per_hour, soak_result
from harness.loadtest.verdict import breaches, exit_code, summary_table
from harness.runfolder.io import read_file
from harness.runfolder.load import (
    Knee,
    LoadEndpoint,
    LoadFile,
    LoadPoint,
    LoadRun,
    LoadStep,
    ResourceSample,
    ResourceSeries,
    SloResult,
)


def _series(role: str, points: list[tuple[float, float, float]], cores: int = 2) -> ResourceSeries:
    return ResourceSeries(
        role=role,  # type: ignore[arg-type]
        cores_available=cores,
        samples=[ResourceSample(t_s=t, cpu_percent=c, rss_mib=m) for t, c, m in points],
    )


def _run(**fields: object) -> LoadRun:
    base: dict[str, object] = {"backend": "azure", "passed": True}
    base.update(fields)
    return LoadRun.model_validate(base)


def test_growth_is_the_least_squares_slope_per_hour() -> None:
    # 2 MiB per minute with alternating noise of +-3 MiB: 120 MiB/h
    samples = [
        ResourceSample(t_s=60.0 * i, cpu_percent=0, rss_mib=100 + 2 * i + (3 if i % 2 else -3))
        for i in range(40)
    ]
    assert growth_mib_per_hour(samples, warmup_fraction=0) == pytest.approx(120, rel=0.05)


def test_growth_leaves_the_warm_up_out() -> None:
    # a jump in the first 10 % (pools filling), flat afterwards
    samples = [
        ResourceSample(t_s=float(i), cpu_percent=0, rss_mib=50.0 if i < 10 else 200.0)
        for i in range(100)
    ]
    assert growth_mib_per_hour(samples) == 0
    assert growth_mib_per_hour(samples[:2]) is None


def test_soak_fails_above_the_bound_and_without_app_samples() -> None:
    rising = _series("app", [(float(t), 0, 100 + t / 36) for t in range(0, 3600, 60)])
    flat = _series("worker", [(float(t), 0, 300) for t in range(0, 3600, 60)])
    result = soak_result([rising, flat], 3600, bound_mib_per_h=50)
    assert result.app_growth_mib_per_h == pytest.approx(100, rel=0.01)
    assert result.worker_growth_mib_per_h == 0 and not result.passed
    assert soak_result([rising, flat], 3600, bound_mib_per_h=150).passed
    assert not soak_result([flat], 3600, bound_mib_per_h=150).passed


def test_window_mean_uses_the_offset() -> None:
    series = _series("generator", [(1, 10, 0), (2, 20, 0), (3, 90, 0), (4, 90, 0)])
    assert series_window_mean(series, 0, 1, offset_s=1) == 15
    assert series_window_mean(series, 10, 20) is None


def _step(index: int, start: float, end: float) -> LoadStep:
    return LoadStep(
        index=index, users=5 * (index + 1), start_s=start, end_s=end, rps=1, slos_passed=True
    )


def test_generator_saturated_at_the_knee_says_the_knee_is_not_trustworthy() -> None:
    generator = _series("generator", [(t, 20 if t < 10 else 80, 50) for t in range(20)])
    run = _run(
        steps=[_step(0, 0, 9), _step(1, 10, 19)],
        knee=Knee(step=1, users=10, rps=5),
    )
    done = apply_generator_cpu(run, [generator], offset_s=0, processes=1)
    assert [s.generator_cpu_percent for s in done.steps] == [20, 80]
    assert done.generator_saturated
    assert "knee is not trustworthy" in done.notes[-1]
    calm = apply_generator_cpu(
        run.model_copy(update={"knee": Knee(step=0, users=5, rps=1)}),
        [generator],
        offset_s=0,
        processes=1,
    )
    assert not calm.generator_saturated


def test_generator_capacity_is_one_core_per_process_up_to_the_cores() -> None:
    assert generator_capacity_percent(1, 2) == 100
    assert generator_capacity_percent(4, 2) == 200
    generator = _series("generator", [(t, 80, 50) for t in range(5)])
    two = apply_generator_cpu(_run(), [generator], offset_s=0, processes=2)
    assert not two.generator_saturated  # 80 of 200 %
    assert apply_generator_cpu(_run(), [generator], offset_s=0, processes=1).generator_saturated


def test_unsampled_generator_is_noted() -> None:
    done = apply_generator_cpu(_run(), [], offset_s=0, processes=1)
    assert not done.generator_saturated and "not sampled" in done.notes[-1]


def test_merge_keeps_other_modes_and_replaces_the_same_one(tmp_path: Path) -> None:
    plain = _run(mode="duration", users=1)
    step = _run(mode="step")
    write_load_file(tmp_path, [plain, step], tool="locust 9", slo_file="s", machine="m")
    again = _run(mode="duration", users=7)
    s3 = _run(backend="s3")
    write_load_file(tmp_path, [again, s3], tool="locust 9", slo_file="s", machine="m")
    runs = read_file(tmp_path, "load.json", LoadFile).runs
    assert [(r.backend, r.mode, r.users) for r in runs] == [
        ("azure", "step", None),
        ("azure", "duration", 7),
        ("s3", "duration", None),
    ]
    assert merge_runs([], [plain]) == [plain]


def _slo(passed: bool, measured: float | None = 900.0, step: int | None = None) -> SloResult:
    return SloResult(
        name="GET /scans p95_ms <= 800",
        endpoint="GET /scans",
        metric="p95_ms",
        threshold=800,
        measured=measured,
        passed=passed,
        step=step,
    )


def test_breaches_name_the_slo_and_its_measured_value() -> None:
    run = _run(passed=False, slos=[_slo(False), _slo(True, 10)])
    assert breaches(run) == [
        "load SLO missed on azure: GET /scans p95_ms <= 800, measured 900 ms (duration run)"
    ]
    assert "measured no requests" in breaches(_run(passed=False, slos=[_slo(False, None)]))[0]


def test_failed_requests_are_a_breach_even_when_slos_hold() -> None:
    total = LoadEndpoint(name="Aggregated", requests=100, failures=1)
    assert breaches(_run(endpoints=[total], slos=[_slo(True, 10)])) == [
        "load on azure: 1 of 100 requests failed (duration run)"
    ]


def test_step_load_without_a_knee_is_a_breach_step_slos_are_not() -> None:
    run = _run(
        mode="step",
        passed=False,
        steps=[_step(0, 0, 9)],
        slos=[_slo(False, step=0)],
        knee=Knee(step=None, users=None, rps=None, reason="step 0 broke GET /scans"),
    )
    assert breaches(run) == [
        "load step run on azure: no step held every SLO (step 0 broke GET /scans)"
    ]
    held = run.model_copy(
        update={"passed": True, "knee": Knee(step=0, users=5, rps=1, reason="ok")}
    )
    overall_breached = held.model_copy(update={"slos": [_slo(False)]})
    assert breaches(overall_breached) == []
    # requests failing above the knee are the search going past capacity, not a breach
    failing = held.model_copy(
        update={"endpoints": [LoadEndpoint(name="Aggregated", requests=100, failures=9)]}
    )
    assert breaches(failing) == []
    below_minimum = held.model_copy(
        update={"passed": False, "notes": ["step load: passes with a knee of at least 10 users"]}
    )
    assert breaches(below_minimum) == [
        "load step run on azure did not pass: step load: passes with a knee of at least 10 users"
    ]


def test_exit_codes() -> None:
    good = BackendOutcome("azure", run=_run())
    bad = BackendOutcome("s3", run=_run(passed=False, slos=[_slo(False)]))
    assert exit_code([good]) == 0
    assert exit_code([good, bad]) == 1
    assert exit_code([good, BackendOutcome("s3", error="moto did not start")]) == 3
    assert exit_code([BackendOutcome("s3", usage_error=True, error="bad SLO file")]) == 2
    assert exit_code([]) == 3


HISTORY = (
    "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,Total Request Count,"
    "Total Failure Count\n"
    "1000,0,,Aggregated,0,0,N/A,0,0\n"
    "1001,0,,Aggregated,0,0,N/A,0,0\n"
    "1002,3,GET,/scans,1.5,0,20,3,0\n"
    "1002,3,,Aggregated,2.5,0,20,5,1\n"
    "1003,4,,Aggreg"
)


def test_progress_reads_the_last_complete_aggregated_row() -> None:
    status = last_aggregated(HISTORY)
    assert status is not None
    assert (status.users, status.rps, status.requests, status.failures) == (3, 2.5, 5, 1)
    assert last_aggregated("") is None


def test_the_run_starts_at_the_first_history_row_with_users(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text(HISTORY + "\n")
    assert locust_start_epoch(path) == 1002
    assert locust_start_epoch(tmp_path / "missing.csv") is None


def test_workers_connected_is_the_most_the_master_saw() -> None:
    log = (
        "x_1 (index 0) reported as ready. 1 workers connected.\n"
        "x_2 (index 1) reported as ready. 2 workers connected.\n"
    )
    assert workers_connected(log) == 2 and workers_connected("local runner") == 0


def test_history_points_stay_validated() -> None:
    with pytest.raises(ValueError):
        LoadPoint.model_validate({"t_s": 1, "users": 1, "rps": 1, "oops": 1})


def test_the_table_counts_the_steps_that_held_for_a_step_load() -> None:
    """A step load's table said "SLOs 0/0" (its whole-run SLOs are not kept)."""
    run = _run(
        mode="step",
        steps=[_step(0, 0, 9), _step(1, 15, 24)],
        knee=Knee(step=0, users=5, rps=1.0, reason="ok"),
    )
    run.steps[1].slos_passed = False
    console = Console(width=200, record=True)
    console.print(summary_table([BackendOutcome("azure", run=run)]))
    assert "1/2 steps" in console.export_text()
