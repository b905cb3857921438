"""load.steps: the step plan, the user count over time, and the knee with its reason."""

from __future__ import annotations

import pytest

from harness.runfolder.load import LoadStep, SloResult
from load.steps import (
    StepError,
    coverage_notes,
    find_knee,
    parse_steps,
    plan_steps,
    users_at,
)


def test_parse_steps_reads_comma_separated_counts() -> None:
    assert parse_steps("5, 10,20,40") == (5, 10, 20, 40)


@pytest.mark.parametrize("text", ["", "5,,10", "5,x", "0,5", "-5", "2.5"])
def test_parse_steps_names_the_argument_on_bad_input(text: str) -> None:
    with pytest.raises(StepError, match="--crownsafe-steps"):
        parse_steps(text)


def test_plan_leaves_the_warmup_out_of_each_window() -> None:
    plan = plan_steps((5, 10), 15, 3)
    assert [(w.users, w.start_s, w.measure_from_s, w.end_s, w.measured_s) for w in plan] == [
        (5, 0, 3, 15, 12),
        (10, 15, 18, 30, 12),
    ]


@pytest.mark.parametrize(
    ("seconds", "warmup", "argument"),
    [
        (0, 0, "--crownsafe-step-seconds"),
        (10, 10, "--crownsafe-step-warmup"),
        (10, -1, "--crownsafe-step-warmup"),
    ],
)
def test_plan_refuses_impossible_windows(seconds: float, warmup: float, argument: str) -> None:
    with pytest.raises(StepError, match=argument):
        plan_steps((5,), seconds, warmup)


def test_users_at_follows_the_plan_and_ends() -> None:
    plan = plan_steps((5, 10), 15, 3)
    assert [users_at(plan, t) for t in (0, 14.9, 15, 29.9)] == [5, 5, 10, 10]
    assert users_at(plan, 30) is None


def step(index: int, users: int, passed: bool) -> LoadStep:
    return LoadStep(
        index=index, users=users, start_s=0, end_s=1, rps=users * 1.5, slos_passed=passed
    )


def breach(index: int) -> SloResult:
    return SloResult(
        name="POST /uploads p95_ms <= 800",
        endpoint="POST /uploads",
        metric="p95_ms",
        threshold=800,
        measured=1234,
        passed=False,
        step=index,
    )


def test_the_knee_is_the_highest_step_that_held() -> None:
    knee = find_knee([step(0, 5, True), step(1, 10, True), step(2, 20, False)], [breach(2)])
    assert (knee.step, knee.users, knee.rps) == (1, 10, 15.0)
    assert "step 2 (20 users) breached POST /uploads p95_ms <= 800: measured 1234" in knee.reason


def test_no_knee_when_no_step_held_says_what_broke_first() -> None:
    knee = find_knee([step(0, 5, False), step(1, 10, False)], [breach(0), breach(1)])
    assert (knee.step, knee.users, knee.rps) == (None, None, None)
    assert "no step held" in knee.reason and "step 0 (5 users)" in knee.reason


def test_every_step_holding_says_the_knee_lies_beyond() -> None:
    knee = find_knee([step(0, 5, True), step(1, 10, True)], [])
    assert knee.users == 10 and "add a larger step" in knee.reason


def test_a_lower_step_that_failed_is_mentioned() -> None:
    knee = find_knee([step(0, 5, False), step(1, 10, True), step(2, 20, False)], [breach(0)])
    assert knee.step == 1 and "lower steps [0]" in knee.reason
    assert find_knee([], []).reason == "no step was completed"


def _unmeasured(index: int, users: int, *names: str) -> LoadStep:
    start = 15.0 * index + 3
    return LoadStep(index=index, users=users, start_s=start, end_s=start + 12, rps=10.0,
                    slos_passed=True, not_measured=list(names))  # fmt: skip


def test_coverage_notes_say_nothing_when_every_step_measured_everything() -> None:
    plan = plan_steps((10, 20), 15, 3)
    assert coverage_notes([_unmeasured(0, 10), _unmeasured(1, 20)], plan, {"GET /a": 5}) == []


def test_a_rare_endpoint_gets_a_step_length_that_measures_it() -> None:
    # 10 + 20 users x 15 s = 450 user-seconds; 9 requests: 0.02 per user-second. At the
    # 10-user step a 12 s window expects 2.4 (< 5); 5 need 25 s, + 3 s warm-up -> 30 s.
    plan = plan_steps((10, 20), 15, 3)
    steps = [_unmeasured(0, 10, "GET /shares/[token] (revoked)"), _unmeasured(1, 20)]
    notes = coverage_notes(steps, plan, {"GET /shares/[token] (revoked)": 9})
    assert notes[0] == (
        "not measured in a step (no request inside its window, so not judged there): "
        "step 0 (10 users): GET /shares/[token] (revoked)"
    )
    assert notes[1] == (
        "the step windows (12 s measured per step) are too short to measure the whole mix: "
        "GET /shares/[token] (revoked) needs about 25 s to expect 5 requests in every "
        "window; try --step-seconds 30"
    )


def test_a_bursty_endpoint_is_not_given_a_longer_step_that_would_not_help() -> None:
    # POST /scans: 90 requests, all in the users' first tasks; its average rate expected
    # 0.2 x 20 x 12 = 48 in step 1's window, where none came
    plan = plan_steps((10, 20), 15, 3)
    steps = [_unmeasured(0, 10), _unmeasured(1, 20, "POST /scans", "GET /never")]
    notes = coverage_notes(steps, plan, {"POST /scans": 90})
    assert notes[1] == "GET /never: no request in the whole run, so no step can judge it"
    assert "POST /scans: 90 requests in the run but none inside the window of step 1" in notes[2]
    assert "a longer step does not spread; a plain run (--duration) judges it" in notes[2]
    assert len(notes) == 3
