"""Step load: the plan (user counts x seconds, a warm-up per step) and the knee.

Step `i` holds `users[i]` from `i * seconds` to `(i + 1) * seconds` (seconds from the
shape's start). Its statistics are measured from `start + warmup` to its end, so the
ramp to the new user count is left out. The knee is the highest step whose SLOs all hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from harness.runfolder.load import Knee, LoadStep, SloResult
from load.evaluate import breach_lines

__all__ = ["StepError", "StepWindow", "find_knee", "parse_steps", "plan_steps", "users_at"]


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
