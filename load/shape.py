"""`StepShape`: the step load (selected by `--crownsafe-steps`, installed by hooks.py).

Not found by locust's own shape discovery (`abstract = True`): the hooks put an instance
on `environment.shape_class` only when steps are asked for, so a plain run stays a plain
`--users/--run-time` run. The shape starts the `StepRecorder` on its first tick and
stops the test once the last step is over and recorded.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import ClassVar

import gevent  # type: ignore[import-untyped]
from locust import LoadTestShape

from load.recorder import StepRecorder
from load.steps import StepWindow, users_at

__all__ = ["StepShape"]

RECORD_GRACE_S = 10.0
"""How long past the last step the shape waits for the recorder before stopping anyway."""


class StepShape(LoadTestShape):
    abstract: ClassVar[bool] = True

    def __init__(
        self, plan: Sequence[StepWindow], spawn_rate: float, recorder: StepRecorder
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.plan, self.spawn_rate, self.recorder = list(plan), spawn_rate, recorder
        self._greenlet: gevent.Greenlet | None = None

    def tick(self) -> tuple[int, float] | None:
        if self._greenlet is None:
            self._greenlet = gevent.spawn(self.recorder.run, self.start_time)
        run_time: float = self.get_run_time()  # type: ignore[no-untyped-call]
        users = users_at(self.plan, run_time)
        if users is None:
            if self.recorder.finished or run_time > self.plan[-1].end_s + RECORD_GRACE_S:
                return None
            users = self.plan[-1].users
        return users, self.spawn_rate

    @staticmethod
    def clock() -> float:
        """The clock `start_time` is on (LoadTestShape uses time.perf_counter)."""
        return time.perf_counter()
