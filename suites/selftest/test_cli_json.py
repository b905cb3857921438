"""`--json` on `run`, `services up`, `bench` and `report`, as CI reads them: stdout is one
JSON object and nothing else (the rest goes to stderr), the documented keys are there,
and no credential appears outside the one place a caller asks for it (`services up`'s
`env`). Real processes: the commands run as subprocesses, on real services."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from crownsafe.config import Settings, load_settings
from crownsafe.redaction import contains_secret, known_secrets
from crownsafe.storage import create_storage_client

HARNESS = Path(sys.executable).with_name("crownsafe-harness")
REPO_ROOT = Path(__file__).resolve().parents[2]
GOLDEN = REPO_ROOT / "fixtures" / "golden_runs" / "full_pass"
SETTINGS_VARIABLES = {f.name.upper() for f in dataclasses.fields(Settings)}


def _harness(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HARNESS), *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _one_object(stdout: str) -> dict[str, Any]:
    """stdout parsed as exactly one JSON object (json.loads refuses anything around it)."""
    document = json.loads(stdout)
    assert isinstance(document, dict), type(document)
    return document


def test_run_json_prints_only_the_summary_and_the_suites_output_goes_to_stderr(
    tmp_path: Path,
) -> None:
    """A real `run` (suites + report stages, one unit test selected): stdout is the
    summary.json document; the child pytest's own output is on stderr, not stdout."""
    run_dir = tmp_path / "run"
    result = _harness(
        "run", "--json", "--workers", "0", "--stages", "suites,report", "--run-dir",
        str(run_dir), "--", "-k", "test_every_command_and_argument_has_a_help_text",
    )  # fmt: skip
    document = _one_object(result.stdout)
    assert document["exit_code"] == result.returncode, result.stderr[-2000:]
    expected = {"schema_version", "outcome", "exit_code", "profile", "stages", "suites", "run_dir"}
    assert document.keys() >= expected
    assert [s["name"] for s in document["stages"]] == ["suites", "report"]
    assert document["run_dir"] == str(run_dir)
    assert document == json.loads((run_dir / "summary.json").read_text())
    assert "1 passed" in result.stderr, "the child pytest's summary line is on stderr"


class _Lines:
    """A child's stdout read line by line in a thread (so a wait can time out)."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
        self.process.stdout.close()
        self._done.set()

    def first_object(self, timeout: float) -> dict[str, Any]:
        """The JSON object printed first: its lines up to the closing brace at column 0."""
        deadline = threading.Event()
        timer = threading.Timer(timeout, deadline.set)
        timer.start()
        try:
            while not deadline.is_set():
                if "}\n" in self.lines:
                    end = self.lines.index("}\n") + 1
                    return _one_object("".join(self.lines[:end]))
                if self._done.wait(0.1) and "}\n" not in self.lines:
                    pytest.fail(f"exited before printing its JSON: {''.join(self.lines)}")
        finally:
            timer.cancel()
        pytest.fail(f"no JSON object within {timeout} s: {''.join(self.lines)}")

    def rest_after(self, count: int) -> str:
        self._done.wait(30)
        return "".join(self.lines[count:])


def _services_up(*args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    return subprocess.Popen(
        [str(HARNESS), "services", "up", "--json", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _stop(process: subprocess.Popen[str], signum: signal.Signals) -> tuple[int, str]:
    children = psutil.Process(process.pid).children(recursive=True)
    process.send_signal(signum)
    try:
        status = process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        pytest.fail(f"{signum.name} did not stop `services up --json` within 60 s")
    assert process.stderr is not None
    err = process.stderr.read()
    process.stderr.close()
    _, alive = psutil.wait_procs(children, timeout=15)
    assert not alive, f"left running: {[p.pid for p in alive]}"
    return status, err


def _kill(process: subprocess.Popen[str]) -> None:
    """After a failed assertion: no child left, no pipe left open."""
    if process.poll() is None:
        process.kill()
        process.wait()
    for pipe in (process.stdout, process.stderr):
        if pipe is not None and not pipe.closed:
            pipe.close()


def _secrets_only_in_env(document: dict[str, Any]) -> None:
    """No credential anywhere in the document but under `env`."""
    outside = json.dumps({k: v for k, v in document.items() if k != "env"})
    assert not contains_secret(outside), outside
    leaked = [s for s in known_secrets(document["env"]) if s in outside]
    assert not leaked, "a credential of env appears outside env"


def test_services_up_json_is_one_object_whose_env_works_then_sigterm_stops_it() -> None:
    """The object comes once everything is ready; its env builds a working client; the
    process keeps running, and SIGTERM to its `pid` stops it with exit 0 and nothing more
    on stdout."""
    process = _services_up("--services", "azure,redis")
    lines = _Lines(process)
    try:
        document = lines.first_object(timeout=90)
        printed = len(lines.lines)
        assert document["schema_version"] == 1 and document["status"] == "ready"
        assert document["pid"] == process.pid and document["app"] is None
        assert sorted(s["name"] for s in document["services"]) == ["azure", "redis"]
        assert {"STORAGE_BACKEND", "AZURE_STORAGE_CONNECTION_STRING", "REDIS_URL"} <= set(
            document["env"]
        )
        _secrets_only_in_env(document)
        client = create_storage_client(load_settings(document["env"]))
        try:
            name = f"json/{uuid.uuid4().hex}"
            client.upload_file(name, b"from the JSON env")
            assert client.download_blob(name) == b"from the JSON env"
        finally:
            client.close()
        assert process.poll() is None, "it keeps running after printing"
        status, err = _stop(process, signal.SIGTERM)
    finally:
        _kill(process)
    assert status == 0, err
    assert lines.rest_after(printed) == "", "nothing after the JSON object on stdout"
    assert "# services stopped" in err


def test_services_up_json_with_app_gives_a_url_and_a_token_that_work() -> None:
    """--with-app: `app` describes the API (no secret there), env holds CROWNSAFE_API_URL
    and CROWNSAFE_TOKEN, and the token is accepted by the running API."""
    process = _services_up("--services", "s3", "--with-app")
    lines = _Lines(process)
    try:
        document = lines.first_object(timeout=180)
        app, env = document["app"], document["env"]
        assert app["backend"] == "s3" and app["url"] == env["CROWNSAFE_API_URL"]
        assert {"JWT_SECRET", "DATABASE_URL", "CROWNSAFE_TOKEN", "S3_BUCKET"} <= set(env)
        _secrets_only_in_env(document)
        headers = {"Authorization": f"Bearer {env['CROWNSAFE_TOKEN']}"}
        with httpx.Client(base_url=app["url"], trust_env=False, timeout=30) as http:
            assert http.get("/health").status_code == 200
            assert http.get("/scans", headers=headers).status_code == 200
            assert http.get("/scans").status_code == 401
        status, err = _stop(process, signal.SIGINT)
    finally:
        _kill(process)
    assert status == 0, err


def _benchmarks(median: float) -> dict[str, Any]:
    samples = [median, median * 1.01, median * 0.99] * 5
    stats = {"median": median, "data": samples}
    entry = {"name": "test_a[s3]", "fullname": "benchmarks/x.py::test_a[s3]", "stats": stats}
    return {"benchmarks": [entry]}


def test_bench_json_gate_only_on_a_golden_run_reports_gate_and_goals(tmp_path: Path) -> None:
    """The golden run's ratio, memory and scrape goals come out as records; outcome and
    exit_code agree with the exit status; nothing else on stdout."""
    run_dir = tmp_path / "run"
    shutil.copytree(GOLDEN, run_dir)
    baseline = run_dir / "benchmarks.json"
    result = _harness(
        "bench", "--gate-only", "--json", "--run-dir", str(run_dir), "--baseline", str(baseline)
    )
    document = _one_object(result.stdout)
    assert document["exit_code"] == result.returncode, result.stderr
    assert document["outcome"] == ("passed" if result.returncode == 0 else "failed")
    assert document["ran"] is False and document["pytest_exit_code"] is None
    assert document["gate"]["passed"] is True and document["gate"]["compared"] > 0
    kinds = {goal["kind"] for goal in document["goals"]}
    assert kinds == {"ratio", "memory", "scrape"}, kinds
    not_met = [g for g in document["goals"] if g["measured"] and g["verdict"] == "not met"]
    assert len(document["goals_not_met"]) == len(not_met) + len(document["problems"])
    assert "bench: results in" in result.stderr


def test_bench_json_names_a_regression_and_fails(tmp_path: Path) -> None:
    """Baseline 10x faster: outcome failed, exit 1, the regression named in gate."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "benchmarks.json").write_text(json.dumps(_benchmarks(0.01)))
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps(_benchmarks(0.001)))
    result = _harness(
        "bench", "--gate-only", "--json", "--run-dir", str(run_dir), "--baseline", str(baseline)
    )
    document = _one_object(result.stdout)
    assert (result.returncode, document["exit_code"], document["outcome"]) == (1, 1, "failed")
    [regression] = document["gate"]["regressions"]
    assert regression["name"] == "benchmarks/x.py::test_a[s3]"
    assert "REGRESSION" in result.stderr


def test_bench_json_on_an_empty_folder_is_the_reports_incomplete(tmp_path: Path) -> None:
    """Nothing in the folder: the report's verdict (incomplete, exit 3, what is missing)."""
    result = _harness("bench", "--gate-only", "--json", "--run-dir", str(tmp_path))
    document = _one_object(result.stdout)
    assert (result.returncode, document["outcome"]) == (3, "incomplete")
    assert document["verdict"]["outcome"] == "incomplete" and document["verdict"]["missing"]


def test_bench_json_with_a_baseline_and_no_results_is_an_error_object(tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps(_benchmarks(0.001)))
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    result = _harness(
        "bench", "--gate-only", "--json", "--run-dir", str(run_dir), "--baseline", str(baseline)
    )
    document = _one_object(result.stdout)
    assert (result.returncode, document["outcome"]) == (1, "error")
    assert "cannot read benchmark JSON" in document["error"]


def test_bench_json_without_a_run_folder_is_a_usage_error_object(tmp_path: Path) -> None:
    result = _harness("bench", "--gate-only", "--json", "--run-dir", str(tmp_path / "nosuch"))
    document = _one_object(result.stdout)
    assert (result.returncode, document["outcome"], document["exit_code"]) == (
        2,
        "usage error",
        2,
    )
    assert "is not a run folder" in document["error"]


def test_report_json_usage_error_is_an_error_object(tmp_path: Path) -> None:
    result = _harness("report", str(tmp_path / "missing"), "--json")
    document = _one_object(result.stdout)
    assert (result.returncode, document["exit_code"]) == (2, 2)
    assert "is not a run folder" in document["error"]
