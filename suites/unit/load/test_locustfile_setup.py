"""The locustfile refuses bad set-up before any request: exit code 2 and a message that
names the problem (a real `locust` subprocess; no app is needed, none is called). The
other set-up errors (steps, JWT_SECRET, user base) take the same path (`_fail_setup`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
LOCUST = Path(sys.executable).with_name("locust")


def run_locust(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "JWT_SECRET": "s" * 40}
    locustfile = str(ROOT / "load" / "locustfile.py")
    command = [str(LOCUST), "-f", locustfile, "--headless", "--host", "http://127.0.0.1:9",
               "--users", "1", "--run-time", "1s", *args]  # fmt: skip
    return subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.slow
def test_an_invalid_slo_file_names_its_key(tmp_path: Path) -> None:
    bad = tmp_path / "slos.toml"
    bad.write_text('[endpoints."POST /uploads"]\np95_ms = "fast"\n', "utf-8")
    result = run_locust(tmp_path, "--crownsafe-slo-file", str(bad))
    assert result.returncode == 2, result.stderr[-2000:]
    assert 'endpoints."POST /uploads".p95_ms: must be a number' in result.stderr
