"""`crownsafe-harness load`: the load suite engineers run (locust against the real stack).

    crownsafe-harness load [--backend azure|s3|both] [--duration 20s | --iterations N |
        --step 10,20,40 [--step-seconds 15] | --soak 1h [--soak-bound MIB_PER_HOUR]]
        [--users N] [--spawn-rate R] [--processes N] [--api-workers N] [--web]
        [--host URL --jwt-secret SECRET] [--master --expect-workers N | --worker
        --master-host H] [--slo-file load/slos.toml] [--run-dir DIR] [--json]

Each backend runs on its own fresh stack (emulator, Redis, PostgreSQL, the app under
uvicorn, a Celery worker), one after the other; the locustfile is load/locustfile.py
(load/README.md). Writes `load/<backend>/<mode>/` (locust's CSV with full history, its HTML
report, its log, the master's summary) and `load.json` into the run folder. The guide is
docs/load.md. Exit 0: every SLO held and no request failed; 1 a breach; 2 usage; 3 could
not run; 130/143 interrupted (SIGINT/SIGTERM), after stopping everything it started.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console

from crownsafe.redaction import redact
from harness.loadtest.launch import locust_env, locust_version, shown_command, worker_argv
from harness.loadtest.options import (
    BACKEND_CHOICES,
    DEFAULT_SLO_FILE,
    DEFAULT_SOAK_BOUND_MIB_PER_H,
    MIN_STEP_USERS,
    SOAK_BOUND_VARIABLE,
    LoadOptions,
    LoadUsageError,
    parse_options,
)
from harness.loadtest.record import machine_description, write_load_file
from harness.loadtest.runner import BackendOutcome, InterruptedRun, run_backend
from harness.loadtest.verdict import EXIT_USAGE, breaches, exit_code, json_summary, summary_table
from harness.predeploy.interrupt import Interrupted, signals_raise
from harness.runfolder.paths import resolve_run_dir
from harness.services.base import ServiceStartError
from harness.settings import read_settings

__all__ = ["register"]

PROG = "crownsafe-harness load"


def _err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _run_worker(options: LoadOptions) -> int:
    """`--worker`: locust workers on this machine, attached to the master; no results."""
    from harness.loadtest.launch import LocustProcess

    argv = worker_argv(options)
    _err("$ " + shown_command(argv))
    log = Path.cwd() / f"locust-worker-{options.master_host}.log"
    proc = LocustProcess(argv, locust_env(options.jwt_secret or ""), log)
    try:
        with signals_raise():
            code = proc.start().wait()
    except Interrupted as exc:
        proc.stop()
        return 128 + exc.signum
    _err(f"locust workers ended (exit {code}); their log: {log}")
    return 0 if code in (0, 1) else code


def _render_report(run_dir: Path) -> Path | None:
    """Render `run_dir/index.html` judged by the `load` run profile (the load run alone).

    `reports/latest` points at a folder this command made; the README sends readers to
    `reports/latest/index.html`, so the page must exist. Only for a folder of its own: a
    folder it was given (`run`'s load stage) gets its report from its owner. A page that
    cannot be rendered is said on stderr; it never changes the load run's exit code.
    """
    from harness.report import build_report
    from harness.runfolder.io import RunFileError

    try:
        report = build_report(run_dir, profile="load")
    except (OSError, RunFileError, ValueError) as exc:
        _err(f"{PROG}: the report could not be rendered: {exc}")
        return None
    return report.path


def _load(args: argparse.Namespace) -> int:
    try:
        options = parse_options(args)
    except LoadUsageError as exc:
        _err(f"{PROG}: error: {exc}")
        return EXIT_USAGE
    if options.role == "worker":
        return _run_worker(options)
    # a folder of its own (not --run-dir, not HARNESS_RUN_DIR): reports/latest moves to it,
    # so this command renders its report too
    own_folder = not (options.run_dir or read_settings().run_dir)
    run_dir = resolve_run_dir(options.run_dir)
    console = None if options.json else Console()
    if console is not None and not console.is_terminal:
        console = Console(width=150)  # CI logs and pipes: the table unwrapped
    say = _err if options.json else print
    outcomes: list[BackendOutcome] = []
    interrupted: Interrupted | None = None
    with signals_raise():
        try:
            for backend in options.backends:
                say(f"==> load on {backend} ({options.mode}): run folder {run_dir}")
                try:
                    outcomes.append(
                        run_backend(options, backend, run_dir, say=say, console=console)
                    )
                except ServiceStartError as exc:
                    outcomes.append(BackendOutcome(backend, error=str(exc)))
                    break
                except (OSError, RuntimeError, ValueError) as exc:  # the stack's set-up
                    error = f"{type(exc).__name__}: {exc}"
                    outcomes.append(BackendOutcome(backend, error=error))
                    break
        except InterruptedRun as exc:
            outcomes.append(exc.outcome)
            interrupted = exc
        except Interrupted as exc:
            interrupted = exc
    secret = options.jwt_secret
    for outcome in outcomes:
        if outcome.error:
            outcome.error = redact(outcome.error, secret)
            _err(f"{PROG}: {outcome.backend}: could not run: {outcome.error}")
    runs = [o.run for o in outcomes if o.run is not None]
    load_json = None
    if runs:
        load_json = write_load_file(
            run_dir,
            runs,
            tool=locust_version(),
            slo_file=str(options.slo_file),
            machine=machine_description(),
        )
    code = exit_code(outcomes) if interrupted is None else 128 + interrupted.signum
    report = _render_report(run_dir) if own_folder and load_json is not None else None
    if options.json:
        if report is not None:
            _err(f"report: {report}")
        print(
            json.dumps(
                json_summary(outcomes, code, str(run_dir), str(load_json) if load_json else None),
                indent=2,
            )
        )
        return code
    if console is not None and outcomes:
        console.print(summary_table(outcomes))
    for outcome in outcomes:
        if outcome.run is not None:
            for line in breaches(outcome.run):
                print(line)
            for note in outcome.run.notes:
                print(f"{outcome.backend}: note: {note}")
    if load_json is not None:
        print(f"load.json: {load_json}")
        if report is not None:
            print(f"report: {report}")
    verdict = {0: "passed", 1: "breached", 2: "usage error", 3: "could not run"}
    print(f"load: {verdict.get(code, 'interrupted')}, exit {code}")
    return code


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `load` to the `crownsafe-harness` sub-commands."""
    parser = commands.add_parser(
        "load",
        help="load-test the API with locust, Azure and S3 side by side",
        description="Start a fresh stack per backend (emulator, Redis, PostgreSQL, the app, "
        "a Celery worker), run load/locustfile.py against it with locust, sample CPU and "
        "RSS, check the SLO file, and write load.json into the run folder (docs/load.md). "
        "Exit 0: all SLOs held and no request failed; 1 a breach; 2 usage; 3 could not run.",
    )
    what = parser.add_argument_group("what to run")
    what.add_argument(
        "--backend",
        action="append",
        choices=BACKEND_CHOICES,
        help="storage backend; repeat it, or `both` (default: both, one after the other)",
    )
    what.add_argument("--duration", help="plain run of this length, e.g. 20s, 5m (default 20s)")
    what.add_argument(
        "--iterations", type=int, help="plain run that stops after this many requests"
    )
    what.add_argument(
        "--step",
        help="step load: user counts held one after the other, e.g. 10,20,40 (each "
        f"{MIN_STEP_USERS} or more: the users' weights add up to {MIN_STEP_USERS}, so fewer "
        "leave a kind of user out)",
    )
    what.add_argument(
        "--step-seconds", type=float, help="seconds each step holds its users (default 15)"
    )
    what.add_argument(
        "--step-warmup",
        type=float,
        help="seconds at the start of each step left out of its statistics (default 3)",
    )
    what.add_argument("--soak", help="soak of this length (e.g. 1h): report memory growth")
    what.add_argument(
        "--soak-bound",
        type=float,
        help=f"fail a soak whose app or worker RSS grows faster (MiB per hour; default "
        f"${SOAK_BOUND_VARIABLE} or {DEFAULT_SOAK_BOUND_MIB_PER_H:g})",
    )
    what.add_argument("--users", type=int, default=10, help="simulated users (default 10)")
    what.add_argument(
        "--spawn-rate", type=float, help="users started per second (default: --users)"
    )
    what.add_argument(
        "--slo-file",
        type=Path,
        help=f"the SLO file (default {DEFAULT_SLO_FILE})",
    )
    gen = parser.add_argument_group("load generator")
    gen.add_argument(
        "--processes",
        type=int,
        default=0,
        help="one locust master and N worker processes on this machine (default 0: one "
        "process); with --worker, the worker processes this machine starts",
    )
    gen.add_argument("--master", action="store_true", help="be the master of remote workers")
    gen.add_argument(
        "--expect-workers", type=int, help="with --master: start when this many workers joined"
    )
    gen.add_argument(
        "--master-bind-host",
        help="with --master: address to listen on for workers (default 0.0.0.0)",
    )
    gen.add_argument(
        "--master-port", type=int, default=5557, help="master's port for workers (default 5557)"
    )
    gen.add_argument(
        "--worker", action="store_true", help="only run locust workers for a remote --master"
    )
    gen.add_argument("--master-host", help="with --worker: the machine running --master")
    gen.add_argument("--web", action="store_true", help="locust's web UI instead of headless")
    gen.add_argument(
        "--web-port", type=int, default=8089, help="port of the web UI on 127.0.0.1 (8089)"
    )
    app = parser.add_argument_group("the app under load")
    app.add_argument(
        "--api-workers", type=int, default=1, help="uvicorn worker processes (default 1)"
    )
    app.add_argument("--host", help="an app somebody else runs (base URL): no stack is started")
    app.add_argument(
        "--jwt-secret",
        help="with --host: the app's JWT secret (better: JWT_SECRET in the environment)",
    )
    out = parser.add_argument_group("output")
    out.add_argument(
        "--run-dir", type=Path, help="run folder (default: $HARNESS_RUN_DIR, else a new one)"
    )
    out.add_argument(
        "--json", action="store_true", help="a JSON summary on stdout instead of the table"
    )
    parser.set_defaults(handler=_load)
