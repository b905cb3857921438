"""`crownsafe-harness`: run the whole verification, start services, render reports.

crownsafe-harness run [--backends azure,s3] [--provision local] [--full] [-- PYTEST_ARGS]
crownsafe-harness services up [--services azure,s3,redis]
crownsafe-harness report RUN_DIR [--baseline RUN_DIR]
crownsafe-harness bench ...            (harness.bench)
crownsafe-harness migrate-objects ...  (crownsafe.objects.cli)
"""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import cast

from harness.rundir import new_run_dir
from harness.services.base import ProvisionMode, ServiceStartError
from harness.services.provision import start_services
from harness.stages import DEFAULT_STAGES, STAGES, RunContext, run_stages

__all__ = ["main"]

_REPO_ROOT = Path(__file__).resolve().parents[1]


def _say(text: str) -> None:
    print(text, flush=True)


def _delegate(module: str, function: str, what: str) -> Callable[[list[str]], int]:
    """A subcommand whose implementation lives in another module, imported when used."""

    def run(argv: list[str]) -> int:
        try:
            target = getattr(__import__(module, fromlist=[function]), function)
        except (ImportError, AttributeError) as exc:
            print(f"{what}: {module}.{function} is not available ({exc})", file=sys.stderr)
            return 2
        return int(target(argv) or 0)

    return run


_DELEGATED: dict[str, tuple[Callable[[list[str]], int], str]] = {
    "bench": (_delegate("harness.bench", "main", "bench"), "run and gate the benchmarks"),
    "migrate-objects": (
        _delegate("crownsafe.objects.cli", "main", "migrate-objects"),
        "copy an S3 bucket into an Azure container (resumable)",
    ),
}


def _project_root() -> Path:
    cwd = Path.cwd()
    return cwd if (cwd / "suites").is_dir() else _REPO_ROOT


def _backends(text: str) -> list[str]:
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in ("azure", "s3")]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"use a comma-separated subset of azure,s3: {text!r}")
    return list(dict.fromkeys(names))


def _stage_list(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in STAGES]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown stage(s) {unknown}: choose from {list(STAGES)}")
    return names


def _cmd_run(args: argparse.Namespace) -> int:
    run_dir = Path(args.run_dir).resolve() if args.run_dir else new_run_dir()
    run_dir.mkdir(parents=True, exist_ok=True)
    context = RunContext(
        root=_project_root(),
        run_dir=run_dir,
        backends=args.backends,
        mode=cast(ProvisionMode, args.provision),
        workers=args.workers,
        pytest_args=list(args.pytest_args),
        bench_profile="full" if args.full else "quick",
        print=_say,
    )
    _say(f"crownsafe-harness run: backends {','.join(args.backends)}, provision {args.provision}")
    _say(f"run folder: {run_dir}")
    return run_stages(context, args.stages)


def _wait_for_interrupt(seconds: float | None) -> None:
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_signal)
    try:
        stop.wait(seconds)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def _cmd_services_up(args: argparse.Namespace) -> int:
    if args.with_app:
        from harness.commands.app_up import with_app_services

        args.services = with_app_services(args.services, args.backend)
    try:
        services = start_services(
            args.services,
            cast(ProvisionMode, args.provision),
            options={"azure": {"https": True, "oauth": True}} if args.https else None,
            on_ready=lambda t: _say(f"# {t.name} ready in {t.ready_s:.2f} s at {t.endpoint}"),
        )
    except ServiceStartError as exc:
        print(exc, file=sys.stderr)
        return 1
    with services:
        _say(f"# all ready in {services.parallel_ready_s:.2f} s; emulator credentials below")
        for name, value in {**services.env(), **services.harness_env()}.items():
            _say(f"export {name}={shlex.quote(value)}")
        stack = None
        if args.with_app:
            from harness.commands.app_up import start_app

            stack = start_app(services, args.backend, _say)
            if stack is None:
                return 1
        _say("# Ctrl-C stops the services")
        try:
            _wait_for_interrupt(args.seconds)
        finally:
            if stack is not None:
                stack.stop()
    _say("# services stopped")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    """Write the report and print its path and verdict; exit 0 ready, 1 not ready, 2 usage."""
    from harness.report import build_report

    for folder in (args.run_dir, args.baseline):
        if folder is not None and not folder.is_dir():
            print(f"report: {folder} is not a run folder (expected reports/runs/<timestamp>)")
            return 2
    report = build_report(args.run_dir, args.baseline, args.out)
    verdict = report.findings.verdict
    print(f"report: {report.path}")
    print(f"verdict: {'READY' if verdict.ready else 'NOT READY'}")
    for reason in verdict.reasons:
        print(f"  - {reason}")
    return 0 if verdict.ready else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crownsafe-harness",
        description="Crown Safe verification and benchmark harness (Azure Blob and S3).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run", help="start services, run the suites and benchmarks, write the report"
    )
    run.add_argument("--backends", type=_backends, default=["azure", "s3"], help="azure,s3")
    run.add_argument("--provision", choices=("local", "docker", "external"), default="local")
    run.add_argument("--run-dir", help="run folder (default: reports/runs/<UTC timestamp>)")
    run.add_argument("--workers", type=int, default=2, help="pytest-xdist workers (0: none)")
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
        help="benchmarks in the full profile (100 MiB objects, longer loops; default quick)",
    )
    run.add_argument("pytest_args", nargs="*", help="extra pytest arguments for the suites")
    run.set_defaults(handler=_cmd_run)

    services = commands.add_parser("services", help="start services for manual use")
    services_commands = services.add_subparsers(dest="action", required=True, metavar="ACTION")
    up = services_commands.add_parser("up", help="start services, print exports, wait for Ctrl-C")
    up.add_argument(
        "--services",
        type=lambda s: [n.strip() for n in s.split(",") if n.strip()],
        default=["azure", "s3", "redis"],
        help="comma-separated: azure, s3, redis, postgres (default azure,s3,redis)",
    )
    up.add_argument("--provision", choices=("local", "docker"), default="local")
    up.add_argument("--https", action="store_true", help="Azurite over HTTPS with OAuth")
    up.add_argument(
        "--with-app",
        action="store_true",
        help="also start PostgreSQL, the API and a worker; print the API's URL and a token",
    )
    up.add_argument(
        "--backend", choices=("azure", "s3"), default=None, help="the API's storage backend"
    )
    up.add_argument("--seconds", type=float, default=None, help=argparse.SUPPRESS)
    up.set_defaults(handler=_cmd_services_up)

    from harness.commands import token

    token.register(commands)

    report = commands.add_parser("report", help="render a run folder as one HTML file")
    report.add_argument("run_dir", type=Path, help="run folder, e.g. reports/runs/<timestamp>")
    report.add_argument(
        "--baseline", type=Path, default=None, help="an earlier run folder to compare against"
    )
    report.add_argument(
        "--out",
        type=Path,
        default=None,
        help="where to write the HTML (default RUN_DIR/index.html)",
    )
    report.set_defaults(handler=_cmd_report)

    for name, (_, help_text) in _DELEGATED.items():
        commands.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] in _DELEGATED:
        return _DELEGATED[args_list[0]][0](args_list[1:])
    args = build_parser().parse_args(args_list)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
