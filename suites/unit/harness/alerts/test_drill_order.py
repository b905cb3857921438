"""How run_alert_drill orders the backends' drills (each drill replaced by a stand-in that
meets the other at a barrier: in parallel both arrive, one after the other the barrier
breaks), and `_start_together`: every service started at once, each stopped however the
start ends."""

from __future__ import annotations

import threading
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from harness.alerts import drill
from harness.alerts.drill import AlertDrillOptions, run_alert_drill
from harness.runfolder.alerts import AlertsFile, BackendDrill


def _stand_in(barrier: threading.Barrier, order: list[str]) -> Any:
    def backend_drill(backend: str, *args: Any) -> BackendDrill:
        order.append(backend)
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            return BackendDrill(backend=backend, error="ran alone")
        return BackendDrill(backend=backend, seconds=1.0)

    return backend_drill


def _run(tmp_path: Path, parallel: bool, monkeypatch: pytest.MonkeyPatch) -> AlertsFile:
    # in parallel the other drill arrives within moments; alone, nobody ever comes
    barrier, order = threading.Barrier(2, timeout=5.0 if parallel else 0.2), []
    monkeypatch.setattr(drill, "_backend_drill", _stand_in(barrier, order))
    options = AlertDrillOptions(parallel=parallel)
    lines: list[str] = []
    result = run_alert_drill(None, None, "", tmp_path, ["azure", "s3"], options, lines.append)  # type: ignore[arg-type]
    assert sorted(order) == ["azure", "s3"]
    assert len([line for line in lines if line.endswith("the rest to stop)")]) == 2
    assert AlertsFile.model_validate_json((tmp_path / "alerts.json").read_text()) == result
    return result


def test_the_backends_drill_at_the_same_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _run(tmp_path, True, monkeypatch)
    assert [(d.backend, d.error) for d in result.drills] == [("azure", ""), ("s3", "")]


def test_serial_drills_run_one_after_the_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _run(tmp_path, False, monkeypatch)
    assert [(d.backend, d.error) for d in result.drills] == [
        ("azure", "ran alone"),
        ("s3", "ran alone"),
    ]


class _Service:
    def __init__(self, barrier: threading.Barrier, fails: bool = False) -> None:
        self.barrier, self.fails = barrier, fails
        self.started = self.stopped = False

    def start(self) -> _Service:
        self.barrier.wait()  # breaks unless the other service is starting at the same time
        if self.fails:
            raise RuntimeError("would not start")
        self.started = True
        return self

    def stop(self) -> None:
        self.stopped = True


def test_services_start_at_once_and_all_stop_when_one_fails() -> None:
    barrier = threading.Barrier(2, timeout=2.0)
    good, bad = _Service(barrier), _Service(barrier, fails=True)
    with pytest.raises(RuntimeError, match="would not start"), ExitStack() as stack:
        drill._start_together(stack, good, bad)  # type: ignore[arg-type]
    assert good.started and good.stopped and bad.stopped
