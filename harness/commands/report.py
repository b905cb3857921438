"""`crownsafe-harness report`: render a run folder as one HTML file and print its verdict."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from crownsafe.cli_output import JsonStdout, json_stdout

__all__ = ["register"]


def _report(args: argparse.Namespace) -> int:
    with json_stdout(args.json) as out:

        def usage_error(message: str) -> int:
            print(message)
            if out.enabled:
                out.emit({"outcome": "usage error", "exit_code": 2, "error": message})
            return 2

        return _render(args, out, usage_error)


def _render(args: argparse.Namespace, out: JsonStdout, usage_error: Callable[[str], int]) -> int:
    # Imported when used: the renderer pulls in Jinja2, pydantic and the statistics, which
    # the other commands do not need.
    from harness.report import build_report, verdict_lines
    from harness.report.profile import ProfileError

    for folder in (args.run_dir, args.baseline):
        if folder is not None and not folder.is_dir():
            return usage_error(
                f"report: {folder} is not a run folder (expected reports/runs/<timestamp>)"
            )
    try:
        report = build_report(args.run_dir, args.baseline, args.out, profile=args.profile)
    except ProfileError as exc:
        return usage_error(f"report: {exc}")
    verdict = report.findings.verdict
    if out.enabled:
        out.emit({"report": str(report.path), "exit_code": verdict.exit_code, **asdict(verdict)})
        return verdict.exit_code
    for line in verdict_lines(verdict):
        print(line)
    print(f"report: {report.path}")
    return verdict.exit_code


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `report` to the `crownsafe-harness` sub-commands."""
    report = commands.add_parser(
        "report",
        help="render a run folder as one HTML file",
        description="Write RUN_DIR/index.html (or --out) and print the verdict and the "
        "report's path. Exit codes: 0 ready, 1 not ready (something failed, was lost, "
        "regressed or missed a goal or SLO), 3 incomplete (something the run profile "
        "requires was not assessed), 2 usage error.",
    )
    report.add_argument("run_dir", type=Path, help="run folder, e.g. reports/runs/<timestamp>")
    report.add_argument(
        "--baseline", type=Path, default=None, help="an earlier run folder to compare against"
    )
    report.add_argument(
        "--out",
        type=Path,
        default=None,
        help="where to write the HTML (default RUN_DIR/index.html; keeps it when comparing)",
    )
    report.add_argument(
        "--profile",
        default=None,
        help="run profile that says what a release decision requires: a bundled name "
        "(default, contract, load, bench) or a .toml path (default: default)",
    )
    report.add_argument(
        "--json",
        action="store_true",
        help="print the verdict as one JSON object on stdout instead of lines, nothing else. "
        "Keys: outcome (ready / not ready / incomplete), exit_code, profile, reasons, "
        "missing, notes, items (what was assessed), report (the HTML's path); a usage "
        "error prints outcome 'usage error', exit_code 2 and error",
    )
    report.set_defaults(handler=_report)
