"""`crownsafe-harness run`: start the services, run the suites and benchmarks, render the report."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import cast

from rich.console import Console

from crownsafe.cli_output import json_stdout
from crownsafe.config import BACKENDS
from harness.commands.arguments import backend_list, non_negative_int
from harness.progress import StageView
from harness.report.profile import DEFAULT_PROFILE, ProfileError, read_run_profile
from harness.runfolder import resolve_run_dir
from harness.runfolder.summary import RunSummaryFile
from harness.services.base import PROVISION_MODES, ProvisionMode
from harness.stages import DEFAULT_STAGES, STAGES, RunContext, run_stages
from harness.stopping import Interrupted, exit_status, stop_on_signals

__all__ = ["register"]

_REPO_ROOT = Path(__file__).resolve().parents[2]


def _printer(to_stderr: bool) -> Callable[[str], None]:
    stream = sys.stderr if to_stderr else sys.stdout

    def say(text: str) -> None:
        print(text, file=stream, flush=True)

    return say


def _project_root() -> Path:
    cwd = Path.cwd()
    return cwd if (cwd / "suites").is_dir() else _REPO_ROOT


def _stage_list(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in STAGES]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown stage(s) {unknown}: choose from {list(STAGES)}")
    return names


def _run(args: argparse.Namespace) -> int:
    # With --json, stdout is reserved for summary.json: the stages' lines, the rich view
    # and the child pytest's output all go to stderr (crownsafe.cli_output).
    with json_stdout(args.json) as out:
        _say = _printer(to_stderr=args.json)
        # Usage errors first: a run that cannot start makes no run folder and leaves
        # reports/latest where it was.
        try:
            read_run_profile(args.profile or DEFAULT_PROFILE)
        except ProfileError as exc:
            _say(f"run: {exc}")
            if out.enabled:
                out.emit({"outcome": "usage error", "exit_code": 2, "error": f"run: {exc}"})
            return 2
        run_dir = resolve_run_dir(args.run_dir)
        _say(
            f"crownsafe-harness run: backends {','.join(args.backends)}, provision {args.provision}"
        )
        _say(f"run folder: {run_dir}")
        context = RunContext(
            root=_project_root(),
            run_dir=run_dir,
            backends=args.backends,
            mode=cast(ProvisionMode, args.provision),
            workers=args.workers,
            pytest_args=list(args.pytest_args),
            bench_level="full" if args.full else "quick",
            run_profile=args.profile,
            print=_say,
            view=StageView(_say, Console(stderr=args.json)),
        )
        try:
            with stop_on_signals():
                code = run_stages(context, args.stages)
        except Interrupted as interrupted:
            code = exit_status(interrupted)
            _say(f"run: {interrupted}: its children and services were stopped (exit {code})")
            if out.enabled:
                out.emit(
                    {
                        "outcome": "interrupted",
                        "exit_code": code,
                        "signal": signal.Signals(interrupted.signum).name,
                        "run_dir": str(run_dir),
                    }
                )
            return code
        if out.enabled:
            out.emit((run_dir / RunSummaryFile.FILE).read_text("utf-8"))
    return code


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `run` to the `crownsafe-harness` sub-commands."""
    run = commands.add_parser(
        "run",
        help="start services, run the suites and benchmarks, write the report",
        description="Start the services, run the suites and the benchmarks into one run "
        "folder, render its HTML report and print a summary; the verdict is the last lines "
        "before the report's path. Exit codes: 0 ready, 1 not ready (a stage or test failed, "
        "data was lost, a goal, SLO or regression check failed), 3 incomplete (something "
        "the run profile requires was not assessed, e.g. --backends azure), 2 usage error, "
        "130 / 143 stopped by SIGINT / SIGTERM (its child processes and services stopped "
        "first).",
    )
    run.add_argument(
        "--backends",
        type=backend_list,
        default=list(BACKENDS),
        help=f"comma-separated subset of {','.join(BACKENDS)} (default: all)",
    )
    run.add_argument(
        "--provision",
        choices=PROVISION_MODES,
        default="local",
        help="how services are provided: started here, in Docker, or already running "
        "(default: local)",
    )
    run.add_argument("--run-dir", help="run folder (default: reports/runs/<UTC timestamp>)")
    run.add_argument(
        "--workers", type=non_negative_int, default=2, help="pytest-xdist workers (0: none)"
    )
    run.add_argument(
        "--stages",
        type=_stage_list,
        default=list(DEFAULT_STAGES),
        help=f"comma-separated stages (default {','.join(DEFAULT_STAGES)}; "
        f"all: {','.join(STAGES)})",
    )
    run.add_argument(
        "--full",
        action="store_true",
        help="benchmarks at the full level (100 MiB objects, longer loops; default quick)",
    )
    run.add_argument(
        "--json",
        action="store_true",
        help="print the run's summary.json on stdout, nothing else (the stages, the live "
        "view and the suites' output go to stderr). Keys (docs/run-folder/summary.schema."
        "json): schema_version, outcome, exit_code, profile, reasons, missing, stages, "
        "suites, run_dir, report; a usage error prints outcome 'usage error', exit_code 2, "
        "error; a run stopped by a signal prints outcome 'interrupted', exit_code 130 or "
        "143, signal, run_dir",
    )
    run.add_argument(
        "--profile",
        default=None,
        help="run profile: what a release decision requires (bundled: default, contract, load, "
        "bench; or a .toml path; default: default, which is what make run runs)",
    )
    run.add_argument(
        "pytest_args", nargs="*", help="extra pytest arguments for the suites (after --)"
    )
    run.set_defaults(handler=_run)
