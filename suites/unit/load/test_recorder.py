"""load.recorder: snapshots at each window's ends, on an injected clock."""

from __future__ import annotations

import pytest

from load.histogram import EntrySnapshot
from load.recorder import StepRecorder
from load.steps import plan_steps


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.requests = 0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.requests += int(seconds * 10)  # 10 requests per second, all 50 ms

    def snapshot(self) -> dict[str, EntrySnapshot]:
        times = {50: self.requests} if self.requests else {}
        return {"GET /health": EntrySnapshot("GET", "/health", self.requests, 0, 0, times)}


def test_each_step_gets_its_measured_window_only() -> None:
    fake = FakeTime()
    recorder = StepRecorder(plan_steps((5, 10), 10, 2), fake.snapshot, fake.clock, fake.sleep)
    recorder.run(start=fake.now)
    assert recorder.finished
    assert [(s.window.index, s.seconds) for s in recorder.steps] == [(0, 8.0), (1, 8.0)]
    assert [s.entries["GET /health"].requests for s in recorder.steps] == [80, 80]
    assert fake.now == 120.0


def test_finished_is_set_even_when_a_snapshot_fails() -> None:
    fake = FakeTime()

    def broken() -> dict[str, EntrySnapshot]:
        raise RuntimeError("stats gone")

    recorder = StepRecorder(plan_steps((5,), 10, 2), broken, fake.clock, fake.sleep)
    with pytest.raises(RuntimeError, match="stats gone"):
        recorder.run(start=fake.now)
    assert recorder.finished and recorder.steps == []
