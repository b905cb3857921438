"""`crownsafe-harness report`: render a run folder as one HTML file and print its verdict."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["register"]


def _report(args: argparse.Namespace) -> int:
    # Imported when used: the renderer pulls in Jinja2 and the report model, which the
    # other commands do not need.
    try:
        from harness.report import render
    except ImportError as exc:
        print(f"report: harness.report.render is not available ({exc})", file=sys.stderr)
        return 2
    argv = [str(args.run_dir)] + (["--baseline", str(args.baseline)] if args.baseline else [])
    return int(render.main(argv) or 0)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `report` to the `crownsafe-harness` sub-commands."""
    report = commands.add_parser(
        "report",
        help="render a run folder as one HTML file",
        description="Write RUN_DIR/index.html and print its path and the verdict; exit 0 "
        "when ready, 1 when not ready, 2 on a usage error.",
    )
    report.add_argument("run_dir", type=Path, help="run folder, e.g. reports/runs/<timestamp>")
    report.add_argument(
        "--baseline", type=Path, default=None, help="an earlier run folder to compare against"
    )
    report.set_defaults(handler=_report)
