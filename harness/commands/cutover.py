"""`crownsafe-harness cutover`: rehearse the live S3 -> Azure cut-over under load.

Starts its own Azurite, moto, PostgreSQL and Redis (free loopback ports, stopped by PID
however the command ends), runs `harness.cutover.drill.run_drill` and writes
`cutover.json` into the run folder. Exit status: 0 when the drill found nothing wrong,
1 when it did (each problem printed: the endpoint, the object or the row), 2 for usage
errors, 3 when the drill could not run (a service would not start, a step timed out).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from crownsafe.cli_arguments import positive_int
from crownsafe.cli_output import json_stdout
from harness.runfolder.cutover import CutoverFile
from harness.runfolder.paths import resolve_run_dir

__all__ = ["register"]

JSON_HELP = "print the drill's cutover.json on stdout (and nothing else)"


def _drill(args: argparse.Namespace) -> int:
    with json_stdout(args.json) as out:
        code, result = _run(args)
        if args.json and result is not None:
            out.emit(result.model_dump(mode="json"))
        return code


def _run(args: argparse.Namespace) -> tuple[int, CutoverFile | None]:
    from harness.cutover.drill import DrillOptions, run_drill
    from harness.services.base import ServiceStartError
    from harness.services.provision import start_services

    run_dir = resolve_run_dir(args.run_dir)
    options = DrillOptions(objects=args.objects, users=args.users)

    def say(line: str) -> None:
        print(line, flush=True)

    try:
        with start_services(
            ["azure", "s3", "postgres", "redis"], "local", log_dir=run_dir / "logs" / "cutover"
        ) as services:
            result = run_drill(
                services, services.postgres, services.redis.url, run_dir, options, say
            )
    except (ServiceStartError, TimeoutError) as exc:
        say(f"crownsafe-harness cutover: the drill could not run: {exc}")
        return 3, None
    problems = result.broken_promises()
    for phase in result.phases:
        say(
            f"  {phase.phase:<12} {phase.ended_s - phase.started_s:6.1f} s  "
            f"{phase.requests:6d} requests  {phase.failures:4d} failed  "
            f"{phase.fallback_reads:5d} fallback reads  {phase.objects_copied:5d} copied"
        )
    verdict = "NOT READY" if problems else "ready"
    say(f"cut-over drill: {verdict} ({result.seconds:.0f} s; {run_dir / 'cutover.json'})")
    for problem in problems:
        say(f"  - {problem}")
    return (1 if problems else 0), result


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `cutover` to the `crownsafe-harness` sub-commands."""
    parser = commands.add_parser(
        "cutover",
        help="rehearse the live S3 -> Azure cut-over under load (writes cutover.json)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--objects", type=positive_int, default=2000, help="legacy objects to seed (2000)"
    )
    parser.add_argument("--users", type=positive_int, default=6, help="locust users (6)")
    parser.add_argument("--run-dir", type=Path, help="the run folder (default: a new one)")
    parser.add_argument("--json", action="store_true", help=JSON_HELP)
    parser.set_defaults(handler=_drill)
