"""One backend's load run: target up, locust launched and sampled, its summary completed.

`run_backend` starts the target (`harness.loadtest.stack`), launches locust
(`harness.loadtest.launch`), samples the app, the worker and the generator every second
(`harness.loadtest.sampling`), shows progress, and when locust has quit reads the
`LoadRun` its master wrote (load/README.md) and adds what only the harness knows: the
sampled resources, the generator's CPU per step and its saturation, the soak growth, the
API worker count and the files written. SIGINT/SIGTERM (`Interrupted`) stop locust and the
stack by PID and are re-raised once the partial results are kept.
"""

from __future__ import annotations

import csv
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError
from rich.console import Console

from harness.loadtest.generator import apply_generator_cpu
from harness.loadtest.launch import (
    LocustFiles,
    LocustProcess,
    locust_argv,
    locust_env,
    shown_command,
)
from harness.loadtest.options import LoadOptions
from harness.loadtest.progress import HistoryFollower, LiveStatus, progress_view
from harness.loadtest.sampling import ProcessSampler
from harness.loadtest.soak import soak_result
from harness.loadtest.stack import LoadTarget, load_target
from harness.predeploy.interrupt import Interrupted, signals_deferred
from harness.runfolder.load import LoadRun, ProcessRole, ResourceSeries

__all__ = [
    "BackendOutcome",
    "InterruptedRun",
    "locust_start_epoch",
    "run_backend",
    "workers_connected",
]

_WORKERS = re.compile(r"reported as ready\. (\d+) workers connected")


@dataclass
class BackendOutcome:
    """A backend's result: its completed `LoadRun`, or why it could not run."""

    backend: str
    run: LoadRun | None = None
    error: str | None = None
    locust_exit: int | None = None
    usage_error: bool = False
    files: list[str] = field(default_factory=list)


def workers_connected(log_text: str) -> int:
    """The most locust workers the master saw connected (0 for a local runner)."""
    return max((int(m) for m in _WORKERS.findall(log_text)), default=0)


def locust_start_epoch(history_csv: Path) -> float | None:
    """When locust's test started (epoch s, within a second): the first row of its CSV
    history with users running (locust stamps the rows in whole seconds, once a second;
    the rows before it are the process starting up)."""
    try:
        with history_csv.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if row.get("Name") != "Aggregated" or not row.get("Timestamp"):
                    continue
                if float(row.get("User Count") or 0) > 0:
                    return float(row["Timestamp"])
    except (OSError, ValueError):
        return None
    return None


def _roles(target: LoadTarget, generator_pid: int) -> dict[ProcessRole, list[int]]:
    roles: dict[ProcessRole, list[int]] = {"generator": [generator_pid]}
    if target.app_pid is not None:
        roles["app"] = [target.app_pid]
    if target.worker_pid is not None:
        roles["worker"] = [target.worker_pid]
    return roles


def _fresh_folder(files: LocustFiles) -> None:
    """A re-run of the same backend and mode replaces its files, never mixes them."""
    if files.folder.is_dir():
        shutil.rmtree(files.folder)
    files.folder.mkdir(parents=True)


def _wait(
    proc: LocustProcess,
    options: LoadOptions,
    files: LocustFiles,
    label: str,
    console: Console | None,
    say: Callable[[str], None],
) -> int:
    """Wait for locust to quit (iterations: stop it once enough requests were made)."""
    total = options.duration_s
    if options.steps:
        total = options.step_seconds * len(options.steps)
    with progress_view(label, total, console, say) as update:
        latest: dict[str, LiveStatus] = {}

        def on_update(status: LiveStatus) -> None:
            latest["status"] = status
            update(status)

        with HistoryFollower(files.history_csv, on_update):
            while (code := proc.poll()) is None:
                status = latest.get("status")
                if options.iterations and status and status.requests >= options.iterations:
                    proc.stop()
                    return proc.exit_code() or 0
                time.sleep(0.2)
    return code


def _complete(
    run: LoadRun,
    options: LoadOptions,
    resources: list[ResourceSeries],
    files: LocustFiles,
    sampler_epoch: float,
    interrupted: bool,
) -> LoadRun:
    log_text = files.log.read_text("utf-8", errors="replace") if files.log.is_file() else ""
    workers = workers_connected(log_text)
    notes = list(run.notes)
    if workers:
        notes.append(f"{workers} locust workers reported to the master")
    if options.iterations:
        notes.append(
            f"--iterations {options.iterations}: stopped once locust's history showed at "
            f"least {options.iterations} requests (it is flushed every few seconds)"
        )
    if interrupted:
        notes.append("interrupted (SIGINT/SIGTERM): partial results")
    started = locust_start_epoch(files.history_csv)
    offset = (started - sampler_epoch) if started is not None else 0.0
    soak = None
    if options.mode == "soak":
        soak = soak_result(resources, run.duration_s or 0.0, options.soak_bound_mib_per_h)
    completed = run.model_copy(
        update={
            "api_workers": options.api_workers,
            "processes": workers or run.processes,
            "resources": resources,
            "soak": soak,
            "passed": run.passed and (soak is None or soak.passed) and not interrupted,
            "notes": notes,
        }
    )
    completed = apply_generator_cpu(
        completed, resources, offset_s=offset, processes=max(1, workers or options.processes)
    )
    return completed.model_copy(update={"files": files.written()})


def run_backend(
    options: LoadOptions,
    backend: str,
    run_dir: Path,
    *,
    say: Callable[[str], None],
    console: Console | None = None,
) -> BackendOutcome:
    """Run the load on one backend (see the module docstring)."""
    files = LocustFiles(run_dir, backend, options.mode)
    _fresh_folder(files)
    outcome = BackendOutcome(backend)
    interrupted: Interrupted | None = None
    log_dir = run_dir / "logs" / "load" / backend

    def ready(timing: object) -> None:
        say(f"    {getattr(timing, 'name', '?')} ready in {getattr(timing, 'ready_s', 0):.2f} s")

    with load_target(options, backend, log_dir, on_ready=ready) as target:
        argv = locust_argv(options, backend, target.url, files)
        say("    $ " + shown_command(argv))
        proc = LocustProcess(
            argv, locust_env(target.jwt_secret, backend), files.folder / "console.log"
        )
        sampler_epoch = time.time()
        proc.start()
        if proc.pid is None:
            raise RuntimeError("locust did not start")
        sampler = ProcessSampler(_roles(target, proc.pid)).start()
        if options.web:
            say(
                f"    locust UI: http://127.0.0.1:{options.web_port} (the run ends after its "
                "duration or last step; Ctrl-C ends it sooner)"
            )
        try:
            outcome.locust_exit = _wait(proc, options, files, backend, console, say)
        except Interrupted as exc:
            interrupted = exc
        finally:
            with signals_deferred():
                proc.stop()
                stopped = proc.exit_code()
                if outcome.locust_exit is None:
                    outcome.locust_exit = stopped
                resources = sampler.stop()
    outcome.files = files.written()
    if outcome.locust_exit == 2:
        outcome.usage_error = True
    try:
        run = LoadRun.model_validate_json(files.summary.read_text("utf-8"))
    except (OSError, ValidationError) as exc:
        tail = _console_tail(files)
        outcome.error = (
            f"locust (exit {outcome.locust_exit}) wrote no valid summary "
            f"{files.summary}: {type(exc).__name__}\n{tail}"
        )
    else:
        outcome.run = _complete(
            run, options, resources, files, sampler_epoch, interrupted is not None
        )
    if interrupted is not None:
        outcome.error = outcome.error or str(interrupted)
        raise InterruptedRun(outcome, interrupted)
    return outcome


class InterruptedRun(Interrupted):
    """An interrupted backend: carries what it measured so the caller can still write it."""

    def __init__(self, outcome: BackendOutcome, cause: Interrupted) -> None:
        super().__init__(cause.signum)
        self.outcome = outcome


def _console_tail(files: LocustFiles, lines: int = 25) -> str:
    for path in (files.folder / "console.log", files.log):
        if path.is_file():
            text = path.read_text("utf-8", errors="replace").splitlines()[-lines:]
            if text:
                return "\n".join(f"      {line}" for line in text)
    return ""
