"""load.steps: the step plan, the user count over time, and the knee with its reason."""

from __future__ import annotations

import pytest

from harness.runfolder.load import LoadStep, SloResult
from load.steps import StepError, find_knee, parse_steps, plan_steps, users_at


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
