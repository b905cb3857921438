"""The load suite: `crownsafe-harness load` run as a subprocess, never locust in-process.

A locust run inside pytest (or an xdist worker) crashes: importing locust monkey-patches
the process with gevent. Each test starts the command with its own run folder under
`tmp_path`; the command starts and stops its own stack (emulator, Redis, PostgreSQL, the
app, a Celery worker). Each test is slow (a real run of 10-60 s plus the stack).

No `__init__.py` here: the folder would be the package `load` and hide the repository's
`load/` (the locustfile's package) from every other suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from load_suite_support import LoadResult


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """One xdist group: the load tests run one after the other on one worker, so two
    stacks and two load generators never share the two cores (their latencies would be
    each other's)."""
    for item in items:
        if item.nodeid.startswith("suites/load/"):
            item.add_marker(pytest.mark.xdist_group("load"))


REPOSITORY = Path(__file__).resolve().parents[2]
TIMEOUT_S = 240


def _command(run_dir: Path, args: tuple[str, ...]) -> tuple[list[str], dict[str, str]]:
    env = {**os.environ, "PYTHONPATH": str(REPOSITORY), "PYTHONUNBUFFERED": "1"}
    env.pop("HARNESS_RUN_DIR", None)
    command = [sys.executable, "-m", "harness.cli", "load", "--run-dir", str(run_dir), *args]
    return command, env


@pytest.fixture
def load_command_process(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """start(*args) -> the running command (stdout piped, stderr into it); killed after
    the test if it is still running."""
    started: list[subprocess.Popen[str]] = []

    def start(*args: str) -> subprocess.Popen[str]:
        command, env = _command(tmp_path / "run", args)
        proc = subprocess.Popen(
            command,
            cwd=REPOSITORY,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)


@pytest.fixture
def load_command(tmp_path: Path) -> Callable[..., LoadResult]:
    """run(*args) -> LoadResult: `crownsafe-harness load --run-dir tmp/run *args`."""

    def run(*args: str) -> LoadResult:
        run_dir = tmp_path / "run"
        command, env = _command(run_dir, args)
        done = subprocess.run(
            command,
            cwd=REPOSITORY,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            check=False,
        )
        return LoadResult(done.returncode, done.stdout, done.stderr, run_dir)

    return run
