"""SIGTERM to a pytest run (a cancelled CI job, `timeout`) stops the services it started.

By default SIGTERM kills pytest without teardown and the emulators, PostgreSQL and Redis
it started keep running; the plugin turns SIGTERM into an interrupt, so the session's
finalizers stop them by PID. The inner run holds a real Redis (the `redis_service`
fixture) and waits; the outer test sends SIGTERM once the Redis answers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
INNER = """
import threading

def test_holds_a_service(redis_service):
    print(f"REDIS_PID={redis_service.pid}", flush=True)
    threading.Event().wait(120)
"""


def _wait_gone(pid: int, timeout: float) -> bool:
    try:
        psutil.Process(pid).wait(timeout=timeout)
    except psutil.NoSuchProcess:
        return True
    except psutil.TimeoutExpired:
        return False
    return True


def test_sigterm_ends_the_run_and_stops_its_services(tmp_path: Path) -> None:
    (tmp_path / "test_inner.py").write_text(INNER)
    run = subprocess.Popen(
        [sys.executable, "-m", "pytest", str(tmp_path / "test_inner.py"), "-s", "-q",
         "-p", "no:xdist", "-p", "no:locust", "-p", "no:cacheprovider",
         "--rootdir", str(tmp_path), "--run-dir", str(tmp_path / "run")],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert run.stdout is not None
    redis_pid = None
    seen: list[str] = []
    for line in run.stdout:
        seen.append(line)
        if line.startswith("REDIS_PID="):
            redis_pid = int(line.split("=", 1)[1])
            break
    try:
        assert redis_pid is not None, "".join(seen)
        assert psutil.pid_exists(redis_pid)
        run.send_signal(signal.SIGTERM)
        out, _ = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 2, "".join(seen) + out  # pytest's "interrupted"
    assert "stopped by signal SIGTERM" in out, out
    assert _wait_gone(redis_pid, timeout=10), f"redis {redis_pid} outlived the run"
