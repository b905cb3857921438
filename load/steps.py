"""Step load: the plan (user counts x seconds, a warm-up per step) and the knee.

Step `i` holds `users[i]` from `i * seconds` to `(i + 1) * seconds` (seconds from the
shape's start). Its statistics are measured from `start + warmup` to its end, so the
ramp to the new user count is left out. The knee is the highest step whose SLOs all hold
(the SLOs of the endpoints it measured: an endpoint without a request inside a window is
not measured there). `coverage_notes` says which endpoints a step did not measure, and
whether a longer step would measure them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from harness.runfolder.load import Knee, LoadStep, SloResult
from load.evaluate import breach_lines

__all__ = [
    "MIN_REQUESTS_PER_WINDOW",
    "StepError",
    "StepWindow",
    "coverage_notes",
    "find_knee",
    "parse_steps",
    "plan_steps",
    "users_at",
]

MIN_REQUESTS_PER_WINDOW = 5
"""Requests an endpoint should expect inside one step window to be measured there: for
requests arriving at random (Poisson), 5 expected leave under a 1% chance of none."""


class StepError(ValueError):
    """Step arguments that cannot make a plan; the message names the argument."""


@dataclass(frozen=True)
class StepWindow:
    index: int
    users: int
    start_s: float
    end_s: float
    measure_from_s: float

    @property
    def measured_s(self) -> float:
        return self.end_s - self.measure_from_s


def parse_steps(text: str) -> tuple[int, ...]:
    """ "5,10,20,40" -> (5, 10, 20, 40): positive integers, at least one."""
    parts = [part.strip() for part in text.split(",")]
    if not text.strip() or any(not part.isdigit() or int(part) < 1 for part in parts):
        raise StepError(
            f"--crownsafe-steps: {text!r} is not a list of user counts; "
            "write positive integers separated by commas, e.g. 5,10,20,40"
        )
    return tuple(int(part) for part in parts)


def plan_steps(users: Sequence[int], seconds: float, warmup: float) -> list[StepWindow]:
    """The windows of a step load."""
    if not users:
        raise StepError("--crownsafe-steps: give at least one user count, e.g. 5,10,20,40")
    if seconds <= 0:
        raise StepError(f"--crownsafe-step-seconds must be positive (got {seconds:g})")
    if not 0 <= warmup < seconds:
        raise StepError(
            f"--crownsafe-step-warmup must be at least 0 and less than --crownsafe-step-seconds "
            f"(got {warmup:g} with steps of {seconds:g} s)"
        )
    return [
        StepWindow(i, n, i * seconds, (i + 1) * seconds, i * seconds + warmup)
        for i, n in enumerate(users)
    ]


def users_at(plan: Sequence[StepWindow], t: float) -> int | None:
    """The user count at `t` seconds, None once the last step has ended."""
    for window in plan:
        if window.start_s <= t < window.end_s:
            return window.users
    return None if not plan or t >= plan[-1].end_s else plan[0].users


def _first_breach(results: Sequence[SloResult], step: int) -> str:
    lines = breach_lines(r for r in results if r.step == step)
    return lines[0].split(": ", 1)[1] if lines else "its SLOs"


def find_knee(steps: Sequence[LoadStep], results: Sequence[SloResult]) -> Knee:
    """The highest step whose SLOs all hold, with a reason naming what broke above it."""
    if not steps:
        return Knee(step=None, users=None, rps=None, reason="no step was completed")
    held = [step for step in steps if step.slos_passed]
    if not held:
        first = steps[0]
        return Knee(
            step=None,
            users=None,
            rps=None,
            reason=(
                f"no step held its SLOs: already step {first.index} ({first.users} users) "
                f"breached {_first_breach(results, first.index)}"
            ),
        )
    knee = max(held, key=lambda step: step.index)
    above = [step for step in steps if step.index > knee.index]
    if above:
        nxt = above[0]
        reason = (
            f"step {knee.index} ({knee.users} users, {knee.rps:.1f} req/s) is the highest "
            f"whose SLOs all hold; step {nxt.index} ({nxt.users} users) breached "
            f"{_first_breach(results, nxt.index)}"
        )
    else:
        reason = (
            f"every step up to the last ({knee.users} users, {knee.rps:.1f} req/s) held its "
            "SLOs: the knee is at or beyond the largest step; add a larger step to find it"
        )
    failed_below = [
        step.index for step in steps if step.index < knee.index and not step.slos_passed
    ]
    if failed_below:
        reason += f" (lower steps {failed_below} breached an SLO: noisy or warming up?)"
    return Knee(step=knee.index, users=knee.users, rps=knee.rps, reason=reason)


def _user_seconds(plan: Sequence[StepWindow]) -> float:
    return sum(w.users * (w.end_s - w.start_s) for w in plan)


def _suggested_step_seconds(plan: Sequence[StepWindow], window_s: float) -> int:
    """A step length (a multiple of 5 s) whose measured window lasts `window_s`."""
    warmup = plan[0].measure_from_s - plan[0].start_s
    return int(5 * math.ceil((warmup + window_s) / 5))


def coverage_notes(
    steps: Sequence[LoadStep], plan: Sequence[StepWindow], run_requests: Mapping[str, int]
) -> list[str]:
    """What the steps did not measure, and why, as notes (empty when they measured all).

    For each endpoint some step did not measure, its rate per user is read from the whole
    run (`run_requests`: requests per endpoint, warm-ups included, over the plan's
    user-seconds). Where that rate expected fewer than MIN_REQUESTS_PER_WINDOW requests in
    a window, the windows are too short for the mix and a step length is suggested that
    expects that many at the smallest such step. Where it expected more and none came, the
    endpoint's requests come in bursts (e.g. a user's first tasks) that no step length
    spreads. An endpoint with no request in the whole run is named as such."""
    missed = [(step, name) for step in steps for name in step.not_measured]
    if not missed or not plan:
        return []
    per_step = "; ".join(
        f"step {step.index} ({step.users} users): {', '.join(step.not_measured)}"
        for step in steps
        if step.not_measured
    )
    notes = [
        f"not measured in a step (no request inside its window, so not judged there): {per_step}"
    ]
    user_seconds = _user_seconds(plan)
    short: dict[str, float] = {}
    for name in sorted({n for _, n in missed}):
        count = run_requests.get(name, 0)
        mine = [step for step, n in missed if n == name]
        if count == 0:
            notes.append(f"{name}: no request in the whole run, so no step can judge it")
            continue
        rate = count / user_seconds if user_seconds > 0 else 0.0
        expected = {s.index: rate * s.users * (s.end_s - s.start_s) for s in mine}
        if max(expected.values()) >= MIN_REQUESTS_PER_WINDOW:
            which = ", ".join(str(s.index) for s in mine)
            notes.append(
                f"{name}: {count} requests in the run but none inside the window of step "
                f"{which}, where its average rate expected "
                f"{max(expected.values()):.0f}: its requests come in bursts (e.g. a user's "
                "first tasks), which a longer step does not spread; a plain run "
                "(--duration) judges it"
            )
            continue
        fewest = min(s.users for s in mine)
        short[name] = MIN_REQUESTS_PER_WINDOW / (rate * fewest)
    if short:
        window = max(s.end_s - s.start_s for s in steps)
        need = max(short.values())
        notes.append(
            f"the step windows ({window:g} s measured per step) are too short to measure "
            f"the whole mix: {', '.join(short)} "
            f"{'needs' if len(short) == 1 else 'need'} about {need:.0f} s to expect "
            f"{MIN_REQUESTS_PER_WINDOW} requests in every window; try --step-seconds "
            f"{_suggested_step_seconds(plan, need)}"
        )
    return notes
