"""`crownsafe-harness predeploy`: pre-deployment checks against the configured environment.

Exit codes: 0 every check passed (or was skipped for a stated reason), 1 a check failed,
2 usage error, 4 the configuration is so broken nothing could be tried, 128+N interrupted
by signal N (probe blobs are deleted first).
"""

from __future__ import annotations

import argparse
import fnmatch
import sys
from pathlib import Path

from crownsafe.cli_arguments import positive_float

__all__ = ["register"]


def _write(path: str, text: str) -> None:
    if path == "-":
        sys.stdout.write(text)
        return
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


def _predeploy(args: argparse.Namespace) -> int:
    from harness.predeploy import EXIT_CANNOT_RUN, EXIT_USAGE, Options, run_predeploy
    from harness.predeploy.checks import ALL_CHECKS, check_ids
    from harness.predeploy.output import junit_xml, print_table, result_json
    from harness.settings import process_environment

    ids = check_ids()
    unknown = [p for p in args.skip if not any(fnmatch.fnmatchcase(i, p) for i in ids)]
    if unknown:
        print(f"predeploy: --skip {', '.join(unknown)} matches no check id", file=sys.stderr)
        print(f"predeploy: check ids: {', '.join(ids)}", file=sys.stderr)
        return EXIT_USAGE
    options = Options(
        api_url=args.api_url or "",
        stale_minutes=args.stale_minutes,
        http_timeout=args.timeout,
        skip=tuple(args.skip),
        dry_run=args.dry_run,
    )
    report = run_predeploy(ALL_CHECKS, process_environment(), options)
    try:
        if args.json != "-":
            print_table(report, sys.stdout)
        if args.json is not None:
            _write(args.json, result_json(report))
        if args.junit_xml:
            _write(args.junit_xml, junit_xml(report))
    except OSError as exc:
        print(f"predeploy: cannot write an output file: {exc}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    sys.stdout.flush()
    return report.exit_code


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `predeploy` to the `crownsafe-harness` sub-commands."""
    parser = commands.add_parser(
        "predeploy",
        help="pre-deployment checks against the configured environment (CI, production-safe)",
        description="Run the Pre-Deployment Checklist against the environment the application "
        "is configured for (STORAGE_BACKEND, AZURE_*, S3_*, DATABASE_URL, REDIS_URL). Writes "
        "only probe blobs under _crownsafe-predeploy/ and deletes them, even when interrupted. "
        "Exit 0: all passed; 1: a check failed; 2: usage; 4: could not run; 128+N: signal N.",
    )
    parser.add_argument(
        "--json",
        nargs="?",
        const="-",
        default=None,
        metavar="PATH",
        help="write the report as JSON to PATH (schema_version 1); without PATH, print it to "
        "stdout instead of the table",
    )
    parser.add_argument(
        "--junit-xml", metavar="PATH", help="write JUnit XML, one <testcase> per check, to PATH"
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="list the checks and what they would write; connect to nothing, touch nothing",
    )
    parser.add_argument(
        "--api-url", metavar="URL", help="base URL of the API; checks GET URL/health answers 200"
    )
    parser.add_argument(
        "--stale-minutes",
        type=positive_float,
        default=60.0,
        help="delete probe blobs of earlier runs older than this many minutes (default 60)",
    )
    parser.add_argument(
        "--timeout",
        type=positive_float,
        default=10.0,
        help="seconds to wait for each plain HTTP request, Redis or PostgreSQL (default 10)",
    )
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="ID",
        help="skip the checks matching ID (a glob such as 'database.*'); repeatable",
    )
    parser.set_defaults(handler=_predeploy)
