"""SIGTERM / SIGINT to a harness command that starts processes stops every one of them.

`crownsafe-harness run` (its services stage holds an Azurite, its child pytest under xdist
another one) and `crownsafe-harness bench` (its child pytest holds an Azurite) each run a
held test that writes a file and waits. The outer test waits for that file, lists the
command's descendants (psutil), sends the signal, and asserts the exit status (143 / 130)
and that none of the listed processes is left. Before harness.stopping, SIGTERM killed the
command at once and its services and child pytest ran on.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from harness.stopping import STOP_GRACE_S

ROOT = Path(__file__).resolve().parents[2]
HOLD_ENV = "CROWNSAFE_SELFTEST_HOLD_FILE"
HELD_TEST = f"""
import os
import threading
from pathlib import Path


def test_held(storage_client):
    Path(os.environ["{HOLD_ENV}"]).write_text(str(os.getpid()))
    threading.Event().wait(600)
"""
START_TIMEOUT_S = 180.0


def _wait_for_hold(command: subprocess.Popen[bytes], hold: Path, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not hold.exists():
        if command.poll() is not None:
            pytest.fail(f"the command ended ({command.returncode}) first:\n{_tail(log)}")
        if time.monotonic() > deadline:
            pytest.fail(f"the held test did not start in {START_TIMEOUT_S} s:\n{_tail(log)}")
        time.sleep(0.1)


def _tail(log: Path) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-60:])


def _still_running(processes: list[psutil.Process]) -> list[psutil.Process]:
    left = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                left.append(process)
        except psutil.NoSuchProcess:
            continue
    return left


def _azurites(processes: list[psutil.Process]) -> list[psutil.Process]:
    found = []
    for process in processes:
        try:
            if any("azurite" in part for part in process.cmdline()):
                found.append(process)
        except psutil.Error:
            continue
    return found


COMMANDS = {
    "run": ["run", "--stages", "services,suites", "--backends", "azure", "--workers", "1"],
    "bench": ["bench", "--backends", "azure"],
}
EMULATORS = {"run": 2, "bench": 1}  # run: its services stage's + the xdist worker's


@pytest.mark.slow
@pytest.mark.parametrize(
    ("command", "signum", "status"),
    [
        ("run", signal.SIGTERM, 143),
        ("run", signal.SIGINT, 130),
        ("bench", signal.SIGTERM, 143),
    ],
    ids=["run-SIGTERM", "run-SIGINT", "bench-SIGTERM"],
)
def test_a_signal_stops_the_command_its_children_and_its_services(
    tmp_path: Path, command: str, signum: signal.Signals, status: int
) -> None:
    held = tmp_path / "held" / "test_held.py"
    held.parent.mkdir()
    held.write_text(HELD_TEST)
    hold, log = tmp_path / "holding", tmp_path / "command.log"
    argv = [sys.executable, "-m", "harness.cli", *COMMANDS[command]]
    argv += ["--run-dir", str(tmp_path / "run"), "--", str(held), "-k", "test_held"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), HOLD_ENV: str(hold)}
    with log.open("wb") as out:
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=out)
    descendants: list[psutil.Process] = []
    try:
        _wait_for_hold(process, hold, log)
        descendants = psutil.Process(process.pid).children(recursive=True)
        assert len(_azurites(descendants)) >= EMULATORS[command], [
            " ".join(p.cmdline()[:3]) for p in descendants
        ]
        process.send_signal(signum)
        code = process.wait(timeout=STOP_GRACE_S + 20)
        left = _still_running(descendants)
        assert code == status, _tail(log)
        assert not left, f"left running: {[p.cmdline()[:3] for p in left]}\n{_tail(log)}"
        assert f"interrupted by {signum.name}" in log.read_text(errors="replace")
    finally:
        if process.poll() is None:
            process.kill()
        for leftover in _still_running(descendants):  # only after a failure
            with contextlib.suppress(psutil.Error):
                leftover.kill()
