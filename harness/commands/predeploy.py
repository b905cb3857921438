"""`crownsafe-harness predeploy`: pre-deployment checks against the configured environment.

Exit codes: 0 every check passed (or was skipped for a stated reason), 1 a check failed,
2 usage error, 4 the configuration is so broken nothing could be tried or an output file
(--json PATH, --junit-xml PATH) could not be written, 128+N interrupted by signal N (probe
blobs are deleted first). The table's last line states the exit code and why.
"""

from __future__ import annotations

import argparse
import errno
import fnmatch
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from crownsafe.cli_arguments import positive_float

if TYPE_CHECKING:
    from harness.predeploy.model import PredeployResult

__all__ = ["register"]


def _write(path: str, text: str) -> None:
    if path == "-":
        sys.stdout.write(text)
        return
    target = Path(path)
    for folder in target.parents:  # say which part of the path is a file, not "File exists"
        if folder.exists():
            if not folder.is_dir():
                raise NotADirectoryError(errno.ENOTDIR, "not a directory", str(folder))
            break
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


def _predeploy(args: argparse.Namespace) -> int:
    from harness.predeploy import EXIT_CANNOT_RUN, EXIT_USAGE, Options, run_predeploy
    from harness.predeploy.checks import ALL_CHECKS, check_ids
    from harness.predeploy.output import print_table, result_json
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
    problems = _write_files(args, report)
    reason = None
    if problems:
        reason = "; ".join(problems) + (
            f" (the checks themselves: {report.outcome}, exit {report.exit_code})"
        )
        if report.outcome != "interrupted":  # a signal's 128+N stands; else the run failed
            report = report.model_copy(
                update={"outcome": "could-not-run", "exit_code": EXIT_CANNOT_RUN}
            )
            _write_files(args, report)  # the files that could be written say exit 4 as well
        print(f"predeploy: {reason}", file=sys.stderr)
    if args.json == "-":
        sys.stdout.write(result_json(report))
    else:
        print_table(report, sys.stdout, reason=reason)
    sys.stdout.flush()
    return report.exit_code


def _write_files(args: argparse.Namespace, report: PredeployResult) -> list[str]:
    """Write the --json and --junit-xml files (not stdout); each that could not be, and why.

    Written before the table is printed, so the table's last line can state the true exit
    code: a CI job must not read "exit 0" from a run that exits 4 for want of its JSON.
    """
    from harness.predeploy.output import junit_xml, result_json

    problems = []
    for flag, path, render in (
        ("--json", args.json, result_json),
        ("--junit-xml", args.junit_xml, junit_xml),
    ):
        if path is None or path == "-":
            continue
        try:
            _write(path, render(report))
        except OSError as exc:
            why = f"{exc.strerror}: {exc.filename}" if exc.strerror and exc.filename else exc
            problems.append(f"cannot write {flag} {path} ({why}); give a path in a writable folder")
    return problems


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `predeploy` to the `crownsafe-harness` sub-commands."""
    parser = commands.add_parser(
        "predeploy",
        help="pre-deployment checks against the configured environment (CI, production-safe)",
        description="Run the Pre-Deployment Checklist against the environment the application "
        "is configured for (STORAGE_BACKEND, AZURE_*, S3_*, DATABASE_URL, REDIS_URL). Writes "
        "only probe blobs under _crownsafe-predeploy/ and deletes them, even when interrupted. "
        "Exit 0: all passed; 1: a check failed; 2: usage; 4: could not run or could not "
        "write an output file; 128+N: signal N. The last line states the exit code and why.",
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
