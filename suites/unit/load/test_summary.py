"""load.summary: locust's history and one step's statistics as run-folder records."""

from __future__ import annotations

from datetime import UTC, datetime

from harness.runfolder.load import Knee, LoadRun, SloResult
from load.evaluate import EndpointStats, evaluate
from load.slo_file import AGGREGATED, Slo, parse_slos
from load.steps import find_knee, plan_steps
from load.summary import (
    endpoint_records,
    history_points,
    judge_steps,
    step_record,
    step_verdict,
)

START = datetime(2026, 1, 2, 3, 4, 0, tzinfo=UTC).timestamp()


def row(stamp: str, users: int, rps: float, p50: float, p95: float) -> dict[str, object]:
    return {
        "response_time_percentile_0.5": [stamp, p50],
        "response_time_percentile_0.95": [stamp, p95],
        "current_rps": [stamp, rps],
        "current_fail_per_sec": [stamp, 0.5],
        "total_avg_response_time": [stamp, 12.0],
        "user_count": [stamp, users],
        "time": stamp,
    }


def test_history_points_are_seconds_from_the_start() -> None:
    points = history_points(
        [row("2026-01-02T03:04:05Z", 10, 20.0, 30, 90), row("2026-01-02T03:04:10Z", 0, 0, 0, 0)],
        START,
    )
    assert [(p.t_s, p.users, p.rps, p.p95_ms, p.failures_per_s) for p in points] == [
        (5.0, 10, 20.0, 90.0, 0.5),
        (10.0, 0, 0.0, None, 0.5),
    ]


def stats(name: str, method: str, requests: int, p95: float) -> EndpointStats:
    return EndpointStats(method, name, requests, 0, requests / 10, 10.0, p95, p95, p95)


def test_endpoint_records_put_the_aggregate_last() -> None:
    records = endpoint_records(
        [
            stats(AGGREGATED, "", 30, 50),
            stats("/uploads", "POST", 20, 80),
            stats("/health", "GET", 10, 5),
        ]
    )
    assert [(r.method, r.name) for r in records] == [
        ("GET", "/health"),
        ("POST", "/uploads"),
        ("", AGGREGATED),
    ]


def test_step_records_and_knee_make_a_valid_load_run() -> None:
    plan = plan_steps((5, 10), 15, 3)
    slos = [Slo("POST /uploads", "p95_ms", 800)]
    windows = [
        {
            "POST /uploads": stats("/uploads", "POST", 40, 300),
            AGGREGATED: stats(AGGREGATED, "", 40, 300),
        },
        {
            "POST /uploads": stats("/uploads", "POST", 60, 900),
            AGGREGATED: stats(AGGREGATED, "", 60, 900),
        },
    ]
    results, steps = [], []
    for window, observed in zip(plan, windows, strict=True):
        step_results = evaluate(slos, observed, step=window.index)
        results += step_results
        steps.append(step_record(window, observed, step_results))
    assert [(s.start_s, s.end_s, s.rps, s.p95_ms, s.slos_passed) for s in steps] == [
        (3, 15, 4.0, 300, True),
        (18, 30, 6.0, 900, False),
    ]
    knee = find_knee(steps, results)
    run = LoadRun(backend="azure", mode="step", passed=knee.step is not None, steps=steps,
                  knee=knee, slos=results)  # fmt: skip
    again = LoadRun.model_validate_json(run.model_dump_json())
    assert again.knee is not None and again.knee.users == 5
    assert again.steps[1].endpoints[-1].name == AGGREGATED


def test_a_step_without_results_does_not_pass() -> None:
    [window] = plan_steps((5,), 15, 3)
    assert step_record(window, {}, []).slos_passed is False


def whole_run(passed: bool) -> SloResult:
    return SloResult(
        name="Aggregated p95_ms <= 2000",
        endpoint=AGGREGATED,
        metric="p95_ms",
        threshold=2000,
        measured=1000 if passed else 2500,
        passed=passed,
    )


def test_a_step_load_passes_on_its_knee_not_on_the_whole_run() -> None:
    knee = Knee(step=1, users=20, rps=26.0, reason="")
    passed, notes = step_verdict(knee, 10, [whole_run(False)])
    assert passed
    assert notes[0] == "step load: passes with a knee of at least 10 users (knee at 20 users)"
    assert "0 of 1 held; breached: Aggregated p95_ms <= 2000: measured 2500" in notes[1]
    assert step_verdict(knee, 40, [whole_run(True)])[0] is False
    assert step_verdict(Knee(step=None, users=None, rps=None), 0, [])[0] is False


SLO_FILE = parse_slos(
    {
        "endpoints": {
            AGGREGATED: {"p95_ms": 2000, "min_rps": 1.0},
            "POST /scans": {"p95_ms": 3000},
            "POST /uploads": {"p95_ms": 3000},
        }
    }
)


def test_an_endpoint_without_a_request_in_a_step_is_not_measured_there_not_breached() -> None:
    """The README's `--step 10,20,40` failed by luck: POST /scans (a user's first tasks)
    had no request inside a later step's window, and that alone breached the step."""
    plan = plan_steps((10, 20, 40), 15, 3)
    windows = [
        {
            "POST /scans": stats("/scans", "POST", 9, 200),
            "POST /uploads": stats("/uploads", "POST", 40, 300),
            AGGREGATED: stats(AGGREGATED, "", 49, 300),
        },
        {
            "POST /uploads": stats("/uploads", "POST", 80, 500),
            AGGREGATED: stats(AGGREGATED, "", 80, 500),
        },
        {
            "POST /uploads": stats("/uploads", "POST", 90, 3500),
            AGGREGATED: stats(AGGREGATED, "", 90, 900),
        },
    ]
    steps, results = judge_steps(list(zip(plan, windows, strict=True)), SLO_FILE)
    assert [(s.slos_passed, s.not_measured) for s in steps] == [
        (True, []),
        (True, ["POST /scans"]),
        (False, ["POST /scans"]),
    ]
    assert not any(r.endpoint == "POST /scans" and r.step != 0 for r in results)
    knee = find_knee(steps, results)
    assert (knee.step, knee.users) == (1, 20)
    assert "POST /uploads p95_ms <= 3000: measured 3500" in knee.reason


def test_a_step_in_which_no_request_completed_breaches() -> None:
    [window] = plan_steps((10,), 15, 3)
    steps, results = judge_steps([(window, {})], SLO_FILE)
    assert steps[0].slos_passed is False
    assert {(r.endpoint, r.measured, r.passed) for r in results} == {(AGGREGATED, None, False)}
    assert steps[0].not_measured == ["POST /scans", "POST /uploads"]
