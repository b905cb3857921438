"""`crownsafe-harness report`: render a run folder as one HTML file and print its verdict."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["register"]


def _report(args: argparse.Namespace) -> int:
    # Imported when used: the renderer pulls in Jinja2, pydantic and the statistics, which
    # the other commands do not need.
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


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `report` to the `crownsafe-harness` sub-commands."""
    report = commands.add_parser(
        "report",
        help="render a run folder as one HTML file",
        description="Write RUN_DIR/index.html (or --out) and print its path and the verdict; "
        "exit 0 when ready, 1 when not ready, 2 on a usage error.",
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
    report.set_defaults(handler=_report)
