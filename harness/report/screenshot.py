"""Write the README's screenshots of a real report (the `full_pass` golden run) into docs/.

    PYTHONPATH=. .venv/bin/python -m harness.report.screenshot [--out docs]

It copies the golden run folder to a temporary directory, renders it, opens it in headless
Chromium (harness.report.browser) and saves two PNGs: the top of the report (the verdict
and what was assessed) and the whole load section. Re-run it after changing the report's
look; suites/unit/harness/report/test_browser.py runs the same function into a temporary
folder, and a unit test checks the committed files are PNGs of a sensible size.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from harness.report import render_run
from harness.report.browser import check_page

__all__ = ["GOLDEN", "LOAD_SHOT", "TOP_HEIGHT", "TOP_SHOT", "main", "write_screenshots"]

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "fixtures" / "golden_runs" / "full_pass"
TOP_SHOT = "report-screenshot.png"
LOAD_SHOT = "report-load-screenshot.png"
TOP_HEIGHT = 1500


def write_screenshots(out: Path, run: Path = GOLDEN) -> list[Path]:
    """Render `run` (a copy of it) and save the two screenshots into `out`; the page
    must load without a console error or a request for anything but itself."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / run.name
        shutil.copytree(run, copy)
        top, load = out / TOP_SHOT, out / LOAD_SHOT
        page = check_page(render_run(copy), top, shots={"#load": load}, top=TOP_HEIGHT)
    if page.console_errors or page.foreign_requests:
        raise RuntimeError(
            f"the report did not load cleanly: {page.console_errors + page.foreign_requests}"
        )
    return [top, load]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="folder (docs/)")
    args = parser.parse_args(argv)
    for path in write_screenshots(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
