"""`crownsafe-harness load` end to end: real stack, real locust, the run folder it writes."""

from __future__ import annotations

import csv
import json
import re
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest
from load_suite_support import LoadCommand

from harness.runfolder.io import read_file
from harness.runfolder.load import LoadFile

pytestmark = pytest.mark.slow

LOCUST_FILES = (
    "locust_stats.csv",
    "locust_stats_history.csv",
    "locust_failures.csv",
    "locust.html",
    "summary.json",
)


def test_plain_run_passes_with_no_failed_request_and_writes_the_run_folder(
    load_command: LoadCommand,
) -> None:
    result = load_command("--backend", "azure", "--duration", "20s", "--users", "10")
    assert result.code == 0, result.explain()
    run = result.run("azure", "duration")
    total = next(e for e in run.endpoints if e.name == "Aggregated")
    assert total.requests > 0 and total.failures == 0, total
    assert run.passed and run.slos and all(s.passed for s in run.slos)
    folder = result.run_dir / "load" / "azure" / "duration"
    for name in LOCUST_FILES:
        assert (folder / name).is_file(), f"{name} missing in {folder}"
        assert f"load/azure/duration/{name}" in run.files
    # --csv-full-history: the history has rows per endpoint, not only the aggregate
    with (folder / "locust_stats_history.csv").open() as handle:
        names = {row["Name"] for row in csv.DictReader(handle)}
    assert "Aggregated" in names and len(names) > 1, names
    assert "<html" in (folder / "locust.html").read_text()[:2000].lower()
    roles = {r.role: r for r in run.resources}
    assert set(roles) == {"app", "worker", "generator"}
    for series in roles.values():
        assert len(series.samples) >= 10, (series.role, len(series.samples))
        assert (series.peak_rss_mib or 0) > 10 and series.cores_available >= 1
    assert result.load_file().tool.startswith("locust ")
    assert "load: passed, exit 0" in result.stdout


def test_an_impossible_slo_exits_1_and_names_it_with_its_measured_value(
    load_command: LoadCommand, tmp_path: Path
) -> None:
    slo_file = tmp_path / "impossible.toml"
    slo_file.write_text("[endpoints.Aggregated]\np95_ms = 0.001\n")
    result = load_command(
        "--backend", "s3", "--duration", "8s", "--users", "3", "--slo-file", str(slo_file)
    )
    assert result.code == 1, result.explain()
    shown = "load SLO missed on s3: Aggregated p95_ms"
    line = next((x for x in result.stdout.splitlines() if shown in x), None)
    assert line is not None, result.explain()
    found = re.search(r"measured ([0-9.]+) ms", line)
    assert found is not None, line
    measured = float(found.group(1))
    assert measured > 0.001
    slo = next(s for s in result.run("s3", "duration").slos if s.endpoint == "Aggregated")
    assert not slo.passed and slo.measured == pytest.approx(measured, rel=0.01)


def test_two_worker_processes_report_to_one_master(load_command: LoadCommand) -> None:
    result = load_command(
        "--backend", "s3", "--duration", "20s", "--users", "10", "--processes", "2", "--json"
    )
    assert result.code == 0, result.explain()
    summary = json.loads(result.stdout)
    assert summary["exit_code"] == 0 and summary["breaches"] == []
    run = result.run("s3", "duration")
    assert run.processes == 2
    assert "2 locust workers reported to the master" in run.notes
    generator = next(r for r in run.resources if r.role == "generator")
    assert len(generator.pids) >= 3, generator.pids  # the master and its two workers
    total = next(e for e in run.endpoints if e.name == "Aggregated")
    assert total.requests > 0 and total.failures == 0


def test_a_step_load_reports_a_knee_per_backend(load_command: LoadCommand) -> None:
    # from 10 users on every scenario family has a user (load/README.md)
    result = load_command("--step", "10,20", "--step-seconds", "8", "--step-warmup", "2")
    assert result.code in (0, 1), result.explain()
    for backend in ("azure", "s3"):
        run = result.run(backend, "step")
        assert [s.users for s in run.steps] == [10, 20], run.steps
        assert run.knee is not None, f"{backend}: no knee in load.json"
        assert run.knee.reason, run.knee
        if run.knee.step is not None:
            assert run.knee.users in (10, 20)
        assert all(s.generator_cpu_percent is not None for s in run.steps), run.steps
    assert (result.code == 0) == all(r.passed for r in result.load_file().runs), result.explain()


def _holding(run_dir: Path) -> list[str]:
    """Processes that still have a file of the run folder open or name it in their
    command line (locust, the app, the worker, the emulator, Redis, PostgreSQL log there)."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        try:
            files = [f.path for f in proc.open_files()]
            words = proc.info["cmdline"] or []
        except psutil.Error:
            continue
        if any(str(run_dir) in p for p in [*files, *words]):
            found.append(f"{proc.pid}: {' '.join(words)[:120]}")
    return found


def test_sigterm_stops_locust_and_the_stack_and_keeps_what_was_measured(
    load_command_process: Callable[..., subprocess.Popen[str]], tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    proc = load_command_process("--backend", "s3", "--duration", "5m", "--users", "10")
    assert proc.stdout is not None
    seen: list[str] = []
    for line in proc.stdout:  # until the first progress line: locust is running the test
        seen.append(line)
        if line.strip().startswith("s3 ") and "users" in line:
            break
    assert proc.poll() is None, "".join(seen)
    proc.send_signal(signal.SIGTERM)
    stdout, _ = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, "".join(seen) + stdout
    assert _holding(run_dir) == []
    run = next(r for r in read_file(run_dir, "load.json", LoadFile).runs if r.backend == "s3")
    assert not run.passed
    assert any("interrupted" in note for note in run.notes), run.notes


def test_a_web_run_ends_at_its_duration(
    load_command_process: Callable[..., subprocess.Popen[str]], tmp_path: Path
) -> None:
    """`--web --duration 5s` used to serve locust's UI and run on until SIGINT: it ends by
    itself now (locust's --autostart --autoquit) and judges its run like a headless one.
    The wait below only guards against the old hang; it is not a speed assertion."""
    from harness.services.base import free_port

    run_dir = tmp_path / "run"
    web = ("--web", "--web-port", str(free_port()))
    proc = load_command_process("--backend", "s3", *web, "--duration", "5s", "--users", "2")
    try:
        stdout, _ = proc.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGINT)  # the command stops locust and its stack on SIGINT
        stdout, _ = proc.communicate(timeout=120)
        pytest.fail(f"load --web --duration 5s was still running after 180 s:\n{stdout[-3000:]}")
    # judged (0 held, 1 breached: 2 users for 5 s need not meet every SLO), not interrupted
    assert proc.returncode in (0, 1), stdout[-4000:]
    assert stdout.strip().splitlines()[-1].startswith("load: "), stdout[-4000:]
    run = next(r for r in read_file(run_dir, "load.json", LoadFile).runs if r.backend == "s3")
    assert run.passed == (proc.returncode == 0), stdout[-4000:]
    assert not any("interrupted" in note for note in run.notes), run.notes
    assert (run_dir / "load" / "s3" / "duration" / "locust.html").is_file()
    assert _holding(run_dir) == []
