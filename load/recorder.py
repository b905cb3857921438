"""`StepRecorder`: takes the snapshots at each step's window ends, on the master.

It runs in its own greenlet beside the shape: for each step it sleeps until
`start + measure_from_s`, snapshots every stats entry, sleeps until `start + end_s`,
snapshots again and keeps the difference (the step's statistics alone). The clock and
the sleep are passed in (time.perf_counter and gevent.sleep in locust; fakes in tests).

In distributed mode the master's stats lag the workers' by up to one report interval
(the locustfile sets it to 1 s): both ends of a window lag alike, so each window keeps
its length and is shifted by at most that much.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from load.histogram import EntrySnapshot, diff_all
from load.steps import StepWindow

__all__ = ["RecordedStep", "StepRecorder"]


@dataclass(frozen=True)
class RecordedStep:
    window: StepWindow
    entries: Mapping[str, EntrySnapshot]
    """Each entry's difference over the window (entries without requests left out)."""
    seconds: float
    """The measured window's real length (clock time between the two snapshots)."""


@dataclass
class StepRecorder:
    plan: Sequence[StepWindow]
    snapshot: Callable[[], Mapping[str, EntrySnapshot]]
    clock: Callable[[], float]
    sleep: Callable[[float], object]
    steps: list[RecordedStep] = field(default_factory=list)
    finished: bool = False

    def _sleep_until(self, deadline: float) -> None:
        while (left := deadline - self.clock()) > 0:
            self.sleep(left)

    def run(self, start: float) -> None:
        """Record every step of the plan; `start` is the shape's start on `clock`."""
        try:
            for window in self.plan:
                self._sleep_until(start + window.measure_from_s)
                first, opened = self.snapshot(), self.clock()
                self._sleep_until(start + window.end_s)
                last, closed = self.snapshot(), self.clock()
                self.steps.append(RecordedStep(window, diff_all(last, first), closed - opened))
        finally:
            self.finished = True
