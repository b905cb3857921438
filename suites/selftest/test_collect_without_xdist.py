"""Every suite collects with `-p no:xdist` (a single-process debugging run): the markers
pytest-xdist would register, such as `xdist_group`, are registered by the project too
(pyproject.toml), so `--strict-markers` does not refuse them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_module_marked_xdist_group_collects_without_xdist(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "suites/selftest/test_localstack_process.py",
         "-p", "no:xdist", "-p", "no:locust", "-p", "no:cacheprovider", "--co", "-q",
         "--run-dir", str(tmp_path / "run")],
        cwd=ROOT, capture_output=True, text=True, timeout=240, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"\b[1-9]\d* tests? collected", done.stdout), done.stdout
