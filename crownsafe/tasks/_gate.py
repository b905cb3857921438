"""A test-only pause point: with JOB_GATE_DIR set, a job waits for a file to appear.

The job writes `<dir>/<job id>.started` and blocks until `<dir>/<job id>.release`
exists. Tests use it to kill a worker while a job is provably in progress, without
sleeping. Empty JOB_GATE_DIR (the default, and always in production): no effect.
"""

from __future__ import annotations

import time
from pathlib import Path

__all__ = ["wait_at_gate"]

_POLL_S = 0.05


def wait_at_gate(gate_dir: str, job_id: str, *, timeout: float = 120.0) -> None:
    if not gate_dir:
        return
    folder = Path(gate_dir)
    (folder / f"{job_id}.started").touch()
    release = folder / f"{job_id}.release"
    deadline = time.monotonic() + timeout
    while not release.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id}: {release} did not appear within {timeout:g} s")
        time.sleep(_POLL_S)
