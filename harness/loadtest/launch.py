"""Launch locust (load/locustfile.py) as child processes and stop them by PID.

The command lines follow load/README.md ("How crownsafe-harness load calls this"): locust's
own options plus the locustfile's `--crownsafe-*` arguments; `JWT_SECRET` reaches every
locust process through its environment, never its command line. Each locust process runs
in its own session (process group), so stopping it also stops the workers it forked with
`--processes`. Stopping sends SIGINT first: locust then still writes its HTML report and
runs its quit hook (the summary); SIGTERM skips the HTML report; SIGKILL comes last.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import sys
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from harness.loadtest.options import LoadOptions
from harness.services.base import ServiceProcess
from harness.settings import process_environment

__all__ = [
    "WEB_AUTOQUIT_S",
    "LocustFiles",
    "LocustProcess",
    "locust_argv",
    "locust_env",
    "locust_version",
    "shown_command",
    "worker_argv",
]

REPOSITORY = Path(__file__).resolve().parents[2]
WEB_AUTOQUIT_S = 5
"""With --web: seconds the UI stays up after the run ended (its last figures), then quit."""


def locust_version() -> str:
    """'locust 2.47.0' (the `tool` of load.json)."""
    try:
        return f"locust {version('locust')}"
    except PackageNotFoundError:
        return "locust (not installed)"


@dataclass(frozen=True)
class LocustFiles:
    """Where one backend x mode run writes: `load/<backend>/<mode>/` in the run folder."""

    run_dir: Path
    backend: str
    mode: str

    @property
    def folder(self) -> Path:
        return self.run_dir / "load" / self.backend / self.mode

    @property
    def csv_prefix(self) -> Path:
        return self.folder / "locust"

    @property
    def html(self) -> Path:
        return self.folder / "locust.html"

    @property
    def summary(self) -> Path:
        return self.folder / "summary.json"

    @property
    def log(self) -> Path:
        return self.folder / "locust.log"

    @property
    def history_csv(self) -> Path:
        return self.folder / "locust_stats_history.csv"

    def written(self) -> list[str]:
        """The files of this run that exist, relative to the run folder (sorted)."""
        if not self.folder.is_dir():
            return []
        return sorted(
            str(p.relative_to(self.run_dir)) for p in self.folder.iterdir() if p.is_file()
        )


def _locust() -> list[str]:
    return [sys.executable, "-m", "locust", "-f", str(REPOSITORY / "load" / "locustfile.py")]


def locust_argv(options: LoadOptions, backend: str, host: str, files: LocustFiles) -> list[str]:
    """The master's (or the single process's) command line for one backend."""
    argv = [*_locust(), "--host", host, "--stop-timeout", "5"]
    argv += ["--csv", str(files.csv_prefix), "--csv-full-history", "--html", str(files.html)]
    argv += ["--logfile", str(files.log), "--only-summary"]
    if options.web:
        # the UI to watch the run, started at once and ended like a headless run: without
        # --autostart locust ignores --run-time (and a step plan) and waits for a click,
        # and without --autoquit it keeps serving the UI after the run until SIGINT
        argv += ["--web-host", "127.0.0.1", "--web-port", str(options.web_port)]
        argv += ["--autostart", "--autoquit", str(WEB_AUTOQUIT_S)]
    else:
        argv += ["--headless"]
    if options.steps:
        argv += ["--crownsafe-steps", ",".join(str(u) for u in options.steps)]
        argv += ["--crownsafe-step-seconds", f"{options.step_seconds:g}"]
        argv += ["--crownsafe-step-warmup", f"{options.step_warmup_s:g}"]
    else:
        argv += ["--users", str(options.users), "--spawn-rate", f"{options.spawn_rate:g}"]
        if options.duration_s is not None:
            argv += ["--run-time", f"{options.duration_s:g}s"]
    argv += ["--crownsafe-backend", backend, "--crownsafe-mode", options.mode]
    argv += ["--crownsafe-slo-file", str(options.slo_file.resolve())]
    argv += ["--crownsafe-summary", str(files.summary)]
    if options.role == "master":
        argv += ["--master", "--expect-workers", str(options.expect_workers)]
        argv += ["--master-bind-host", options.master_bind_host]
        argv += ["--master-bind-port", str(options.master_port)]
    elif options.processes:
        argv += ["--processes", str(options.processes)]
    return argv


def worker_argv(options: LoadOptions) -> list[str]:
    """A worker machine's command line: `--processes N` locust workers on the master."""
    argv = [*_locust(), "--worker", "--master-host", options.master_host]
    argv += ["--master-port", str(options.master_port)]
    if options.processes:
        argv += ["--processes", str(options.processes)]
    return argv


def locust_env(jwt_secret: str, backend: str | None = None) -> dict[str, str]:
    """The locust processes' environment: ours plus JWT_SECRET and the repository on the
    import path (no proxy variables: the app is reached directly)."""
    ours = process_environment()
    env = {k: v for k, v in ours.items() if k.lower() not in ("http_proxy", "https_proxy")}
    env["JWT_SECRET"] = jwt_secret
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPOSITORY), ours.get("PYTHONPATH", "")) if p
    )
    env["PYTHONUNBUFFERED"] = "1"
    if backend:
        env["STORAGE_BACKEND"] = backend
    return env


def shown_command(argv: list[str]) -> str:
    """The command as a user would type it (`locust` instead of `python -m locust`)."""
    shown = ["locust", *argv[3:]] if argv[1:3] == ["-m", "locust"] else argv
    return shlex.join(shown).replace(str(REPOSITORY) + os.sep, "")


class LocustProcess(ServiceProcess):
    """One locust process (in its own session, from the repository root), its console
    output in `log_path`; stopped SIGINT first, so locust still writes its reports."""

    def __init__(self, argv: list[str], env: dict[str, str], console_log: Path) -> None:
        super().__init__(argv, console_log, env=env, cwd=REPOSITORY)

    def poll(self) -> int | None:
        return self.exit_code()

    def wait(self, timeout: float | None = None) -> int:
        if self.popen is None:
            raise RuntimeError("locust was not started")
        return self.popen.wait(timeout=timeout)

    def stop(self, timeout: float = 20.0) -> None:
        """SIGINT the process group (locust writes its reports), then SIGTERM, SIGKILL."""
        if self.popen is None:
            return
        for signum, wait_s in ((signal.SIGINT, timeout), (signal.SIGTERM, 5.0)):
            if self.popen.poll() is not None:
                break
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signum)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=wait_s)
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=5)
        # forked workers of `--processes` share the group: make sure none is left behind
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
