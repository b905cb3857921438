"""A target that stops answering mid-run is named once; the rest of its tests are not run.

An inner contract run whose second test stops the target (moto, a real process) and whose
later tests would each meet "connection refused": the results must show one failure (the
test that was running, saying the target stopped answering), the later tests not run for
that reason, and no error. Once with moto as the session's own emulator, once with an
outside moto shared by two xdist workers (`--provision external --targets s3:external`).
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

from harness.services.s3 import S3Service

pytest_plugins = ["pytester"]

LATER = 8
INNER = textwrap.dedent(
    f"""
    import os
    import signal
    import socket
    import time

    import pytest

    pytestmark = pytest.mark.contract


    def _refused(url):
        host, port = url.split("//", 1)[1].split(":")
        try:
            socket.create_connection((host, int(port)), timeout=2).close()
        except ConnectionRefusedError:
            return True
        return False


    def test_a_kept(storage_client):
        storage_client.upload_file("a.bin", b"a")


    def test_b_stops_the_target(storage_client, target_services):
        s3 = target_services.s3
        pid = os.environ.get("OUTSIDE_S3_PID")
        if pid:
            os.kill(int(pid), signal.SIGTERM)
        else:
            s3.stop()
        deadline = time.monotonic() + 30
        while not _refused(s3.endpoint_url) and time.monotonic() < deadline:
            time.sleep(0.05)
        storage_client.upload_file("b.bin", b"b")


    @pytest.mark.parametrize("n", range({LATER}))
    def test_c_later(storage_client, n):
        storage_client.upload_file(f"c{{n}}.bin", b"c")
    """
)


@pytest.fixture
def inner(pytester: pytest.Pytester) -> Path:
    pytester.makeini(
        "[pytest]\naddopts = -p no:locust\nmarkers =\n    contract: c\n    promise(id): p\n"
    )
    pytester.makepyfile(test_inner=INNER)
    return pytester.path


def _cells(run_dir: Path) -> dict[str, dict[str, Any]]:
    matrix = json.loads((run_dir / "compatibility.json").read_text())
    return {cell["promise"]: cell for cell in matrix["cells"]}


def test_its_own_emulator_stops(pytester: pytest.Pytester, inner: Path) -> None:
    run_dir = inner / "run"
    result = pytester.runpytest_subprocess(
        "-p", "no:xdist", "--targets", "s3:moto", "--sas-targets", "none", "--storage-apis", "sync",
        "--run-dir", str(run_dir), "-rA",
    )  # fmt: skip
    output = result.stdout.str()
    result.assert_outcomes(passed=1, failed=1, skipped=LATER)
    assert "s3:moto stopped answering during this test (connection refused at" in output
    stopped = "s3:moto stopped answering (connection refused at 127.0.0.1:"
    assert f"during test_inner.py::test_b_stops_the_target[s3]; {LATER} of its tests" in output
    assert output.count(stopped) == 2  # the summary line, then the skips' one reason
    assert f"SKIPPED [{LATER}] test_inner.py:" in output
    cells = _cells(run_dir)
    assert cells["test_b_stops_the_target"]["status"] == "broken"
    for n in range(LATER):
        cell = cells[f"test_c_later[{n}]"]
        assert cell["status"] == "not_run"
        assert "stopped answering" in cell["detail"] and "test_b_stops_the_target" in cell["detail"]
    suite = json.loads((run_dir / "suites" / "other.json").read_text())
    assert "error" not in {test["outcome"] for test in suite["tests"]}


def test_an_outside_service_stops_under_xdist(
    pytester: pytest.Pytester, inner: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers share it: one test is named, every other one passed or was not run; a
    teardown or setup on the other worker that meets the stop is no error."""
    with S3Service("local", log_dir=tmp_path / "moto") as outside:
        for name, value in outside.harness_env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("OUTSIDE_S3_PID", str(outside.pid))
        run_dir = inner / "run"
        result = pytester.runpytest_subprocess(
            "-n", "2", "--provision", "external", "--targets", "s3:external",
            "--storage-apis", "sync",
            "--sas-targets", "none", "--run-dir", str(run_dir), "-rA",
        )  # fmt: skip
    output = result.stdout.str()
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed") == 1, output
    assert "error" not in outcomes and "errors" not in outcomes, output
    assert outcomes.get("skipped", 0) >= 1, output
    assert outcomes.get("passed", 0) + outcomes["skipped"] == 1 + LATER
    assert "s3:external stopped answering during this test" in output
    # Across workers the test named is the first test body to meet the stop: test_b
    # almost always, but another worker's test may be mid-call at that moment.
    failed = re.findall(r"^FAILED (test_inner\.py::\S+)", output, re.M)
    assert len(failed) == 1, output
    summary = f"during {failed[0]}; {outcomes['skipped']} of its"
    assert output.count(summary) == 1, output
    cells = _cells(run_dir)
    not_run = [c for c in cells.values() if c["status"] == "not_run"]
    assert len(not_run) == outcomes["skipped"]
    assert all("s3:external stopped answering" in c["detail"] for c in not_run)
