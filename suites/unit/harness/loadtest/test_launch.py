"""locust's command lines as load/README.md describes them; the secret only in the env."""

from __future__ import annotations

import argparse
import socket
import subprocess
import time
from pathlib import Path

import pytest

from harness.cli import build_parser
from harness.loadtest.launch import (
    WEB_AUTOQUIT_S,
    LocustFiles,
    locust_argv,
    locust_env,
    shown_command,
    worker_argv,
)
from harness.loadtest.options import LoadOptions, parse_options

SECRET = "s3cr3t-" + "x" * 30


def _options(*argv: str) -> LoadOptions:
    args: argparse.Namespace = build_parser().parse_args(
        ["load", "--slo-file", "load/slos.toml", *argv]
    )
    return parse_options(args, {"JWT_SECRET": SECRET})


def _value(argv: list[str], flag: str) -> str:
    return argv[argv.index(flag) + 1]


def test_plain_run_is_headless_with_csv_history_html_and_the_summary(tmp_path: Path) -> None:
    files = LocustFiles(tmp_path, "azure", "duration")
    argv = locust_argv(_options("--users", "7", "--duration", "1m"), "azure", "http://h:1", files)
    assert "--headless" in argv and "--csv-full-history" in argv
    assert _value(argv, "--csv") == str(tmp_path / "load/azure/duration/locust")
    assert _value(argv, "--html") == str(tmp_path / "load/azure/duration/locust.html")
    assert (_value(argv, "--users"), _value(argv, "--run-time")) == ("7", "60s")
    assert _value(argv, "--crownsafe-backend") == "azure"
    assert _value(argv, "--crownsafe-summary") == str(files.summary)
    assert "--processes" not in argv and SECRET not in " ".join(argv)


def test_step_run_passes_the_steps_instead_of_users_and_run_time(tmp_path: Path) -> None:
    options = _options("--step", "10,20", "--step-seconds", "9", "--processes", "2")
    argv = locust_argv(options, "s3", "http://h:1", LocustFiles(tmp_path, "s3", "step"))
    assert _value(argv, "--crownsafe-steps") == "10,20"
    assert _value(argv, "--crownsafe-step-seconds") == "9"
    assert _value(argv, "--crownsafe-mode") == "step"
    assert "--users" not in argv and "--run-time" not in argv
    assert _value(argv, "--processes") == "2"


def test_web_ui_replaces_headless(tmp_path: Path) -> None:
    argv = locust_argv(
        _options("--web", "--web-port", "9999"),
        "s3",
        "http://h:1",
        LocustFiles(tmp_path, "s3", "x"),
    )
    assert "--headless" not in argv
    assert (_value(argv, "--web-host"), _value(argv, "--web-port")) == ("127.0.0.1", "9999")
    assert "--autostart" in argv and _value(argv, "--autoquit") == str(WEB_AUTOQUIT_S)


@pytest.mark.slow
def test_the_web_ui_run_stops_at_its_duration(tmp_path: Path) -> None:
    """`load --web --duration 15s` ran on until SIGINT: locust ignores --run-time unless
    the test starts by itself. A real locust (against a closed port: every request fails
    fast) must quit by itself after its duration and write its summary."""
    files = LocustFiles(tmp_path, "azure", "duration")
    files.folder.mkdir(parents=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    options = _options("--web", "--web-port", str(port), "--duration", "3s", "--users", "1")
    argv = locust_argv(options, "azure", "http://127.0.0.1:9", files)
    started = time.monotonic()
    done = subprocess.run(
        argv, env=locust_env(SECRET, "azure"), capture_output=True, text=True, timeout=120,
        check=False, cwd=tmp_path,
    )  # fmt: skip
    assert time.monotonic() - started < 3 + WEB_AUTOQUIT_S + 60, done.stderr[-2000:]
    assert files.summary.is_file(), done.stderr[-2000:]


def test_master_and_worker_command_lines() -> None:
    master = _options("--master", "--expect-workers", "4", "--host", "https://api.example.com")
    argv = locust_argv(master, "azure", master.host or "", LocustFiles(Path("/r"), "azure", "d"))
    assert "--master" in argv and _value(argv, "--expect-workers") == "4"
    assert _value(argv, "--master-bind-host") == "0.0.0.0"
    worker = _options(
        "--worker", "--master-host", "10.0.0.5", "--processes", "2"
    )  # fmt: skip
    shown = shown_command(worker_argv(worker))
    assert shown == (
        "locust -f load/locustfile.py --worker --master-host 10.0.0.5 --master-port 5557 "
        "--processes 2"
    )


def test_the_secret_reaches_locust_through_its_environment_only() -> None:
    env = locust_env(SECRET, "s3")
    assert env["JWT_SECRET"] == SECRET and env["STORAGE_BACKEND"] == "s3"
    assert Path(env["PYTHONPATH"].split(":")[0], "load", "locustfile.py").is_file()
