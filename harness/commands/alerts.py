"""`crownsafe-harness alerts`: the outage drill: do the alert rules fire on real faults?

Starts its own Azurite, moto, PostgreSQL and Redis (free loopback ports, stopped by PID
however the command ends), then per backend (the backends at the same time unless
--serial) an app, a worker, a Prometheus with the time-compressed rules of
deploy/prometheus/ and a light upload load, and injects storage faults in turn
(harness.alerts.drill). Writes `alerts.json` into the run folder. Exit
status: 0 when every fault raised its alerts in time and they resolved, and the clean load
raised none; 1 when not (each problem printed: rule, fault, backend); 2 for usage errors;
3 when the drill could not run (a service or Prometheus would not start).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from crownsafe.cli_output import json_stdout
from crownsafe.config import BACKENDS
from harness.commands.arguments import backend_list
from harness.runfolder.alerts import AlertsFile
from harness.runfolder.paths import resolve_run_dir

__all__ = ["register"]

JSON_HELP = "print the drill's alerts.json on stdout (and nothing else)"


def _drill(args: argparse.Namespace) -> int:
    with json_stdout(args.json) as out:
        code, result = _run(args)
        if args.json and result is not None:
            out.emit(result.model_dump(mode="json"))
        return code


def _run(args: argparse.Namespace) -> tuple[int, AlertsFile | None]:
    from harness.alerts.drill import AlertDrillOptions, run_alert_drill
    from harness.services.base import ServiceStartError
    from harness.services.provision import start_services

    run_dir = resolve_run_dir(args.run_dir)
    options = AlertDrillOptions(factor=args.factor, parallel=not args.serial)

    def say(line: str) -> None:
        print(line, flush=True)

    try:
        with start_services(
            [*args.backends, "postgres", "redis"], "local", log_dir=run_dir / "logs" / "alerts"
        ) as services:
            result = run_alert_drill(
                services, services.postgres, services.redis.url, run_dir, args.backends,
                options, say,
            )  # fmt: skip
    except (ServiceStartError, TimeoutError, ValueError) as exc:
        say(f"crownsafe-harness alerts: the drill could not run: {exc}")
        return 3, None
    problems = result.broken_promises()
    for drill in result.drills:
        for span in drill.alerts:
            fired = "never" if span.firing_s is None else f"{span.firing_s:.1f} s"
            resolved = "-" if span.resolved_s is None else f"{span.resolved_s:.1f} s"
            say(
                f"  [{drill.backend}] {span.alert:<36} pending {span.pending_s:6.1f} s  "
                f"firing {fired:>8}  resolved {resolved:>8}"
            )
    verdict = "NOT READY" if problems else "ready"
    say(f"alert drill: {verdict} ({result.seconds:.0f} s; {run_dir / AlertsFile.FILE})")
    for problem in problems:
        say(f"  - {problem}")
    return (1 if problems else 0), result


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `alerts` to the `crownsafe-harness` sub-commands."""
    parser = commands.add_parser(
        "alerts",
        help="outage drill: a real Prometheus sees the alert rules fire on injected storage "
        "faults (writes alerts.json)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--backends",
        type=backend_list,
        default=list(BACKENDS),
        help=f"comma-separated backends to drill, at the same time ({','.join(BACKENDS)})",
    )
    parser.add_argument(
        "--serial",
        action="store_true",
        help="drill the backends one after the other (default: at the same time, each on "
        "its own app, worker, proxy and Prometheus)",
    )
    parser.add_argument(
        "--factor",
        type=float,
        default=60.0,
        help="divide every duration of the rules by this (60: for: 2m -> 2 s)",
    )
    parser.add_argument("--run-dir", type=Path, help="the run folder (default: a new one)")
    parser.add_argument("--json", action="store_true", help=JSON_HELP)
    parser.set_defaults(handler=_drill)
