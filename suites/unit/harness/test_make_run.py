"""What `make run` returns, as the README says: make exits 2 for any failed recipe, so
`make run` is 0 (ready) or 2 (anything else), its last line names the verdict's own exit
code, and CI that needs that code runs `.venv/bin/crownsafe-harness run`.

`make -o bootstrap` skips the set-up; BIN points at a stand-in for crownsafe-harness that
exits with the code it is given, so no service starts."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
VERDICTS = {0: "ready", 1: "not ready", 2: "usage error", 3: "incomplete"}


def _make_run(tmp_path: Path, harness_exit: int) -> subprocess.CompletedProcess[str]:
    fake = tmp_path / "crownsafe-harness"
    fake.write_text(f'#!/bin/sh\necho "stand-in $*"\nexit {harness_exit}\n', encoding="utf-8")
    fake.chmod(0o755)
    make = shutil.which("make")
    assert make is not None, "GNU make is needed (apt-get install make)"
    return subprocess.run(
        [make, "--no-print-directory", "-o", "bootstrap", "run", f"BIN={tmp_path}"],
        cwd=ROOT,
        env={**os.environ, "MAKEFLAGS": ""},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("harness_exit", sorted(VERDICTS))
def test_make_run_is_0_when_ready_else_2_and_names_the_verdicts_code(
    tmp_path: Path, harness_exit: int
) -> None:
    done = _make_run(tmp_path, harness_exit)
    output = done.stdout + done.stderr
    assert "stand-in run" in done.stdout, output
    assert done.returncode == (0 if harness_exit == 0 else 2), output
    if harness_exit:
        lines = [line for line in done.stdout.splitlines() if line.startswith("make run:")]
        assert lines, output
        said = f"crownsafe-harness run exited {harness_exit} ({VERDICTS[harness_exit]})"
        assert said in lines[-1], output
        assert "/crownsafe-harness run" in lines[-1], output


def test_the_readme_says_what_make_run_returns_and_where_ci_gets_the_verdict() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    row = next((line for line in readme.splitlines() if line.startswith("| `make run` |")), None)
    assert row is not None, "the README's CI table has no `make run` row"
    assert "0 ready" in row and "2 " in row and "not ready" in row, row
    assert "`.venv/bin/crownsafe-harness run`" in row, row
    # the `make run` section no longer says make's exit code is the verdict's
    section = readme.split("### `make run`", 1)[1].split("### ", 1)[0]
    assert not re.search(r"The exit code is the verdict's", section), section
    assert "make run` exits 0 when ready and 2 otherwise" in " ".join(section.split())
