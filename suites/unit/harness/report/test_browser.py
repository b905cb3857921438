"""The rendered report in headless Chromium (Playwright): no console error, no network request.

Needs Debian's `chromium` (`apt-get install -y --no-install-recommends chromium`, done by
`make bootstrap`). Without it these tests FAIL with that instruction; they never skip.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from harness.report import render_run
from harness.report.browser import check_page, find_chromium
from harness.report.screenshot import LOAD_SHOT, TOP_HEIGHT, TOP_SHOT, write_screenshots

GOLDEN = Path(__file__).resolve().parents[4] / "fixtures" / "golden_runs"
SECTIONS = [
    "Verdict",
    "The seed's Performance Benchmarks, measured",
    "Operations: Azure and S3 side by side",
    "crownsafe overhead",
    "The API under load",
    "Statistics",
    "Cost per month",
    "Resilience under injected faults",
    "Migration",
    "Live cut-over (S3 -> Azure under load)",
    "Alerts (outage drill)",
    "Load",
    "Suite results",
    "Compatibility matrix",
    "Regressions",
    "Environment",
]


def test_chromium_is_installed() -> None:
    assert Path(find_chromium()).is_file()


def test_full_report_loads_cleanly_offline_and_is_screenshotted(tmp_path: Path) -> None:
    run = tmp_path / "full_pass"
    shutil.copytree(GOLDEN / "full_pass", run)
    page = check_page(render_run(run), run / "screenshot.png", pdf=run / "report.pdf")
    assert page.console_errors == []
    assert page.foreign_requests == [], "the report fetched something besides itself"
    assert page.requests == [page.url]
    assert [h for h in page.dom["h2"] if h != "Contents"] == SECTIONS
    assert page.dom["scripts"] == 0
    assert page.dom["svgs"] >= 8 and page.dom["svgs_labelled"] == page.dom["svgs"]
    assert page.dom["tables"] == page.dom["captions"] >= page.dom["svgs"]
    assert page.screenshot is not None
    png = page.screenshot.read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 50_000
    assert page.pdf is not None and page.pdf.read_bytes().startswith(b"%PDF")
    print(f"screenshot: {page.screenshot}")


def test_not_ready_report_loads_cleanly(tmp_path: Path) -> None:
    run = tmp_path / "not_ready"
    shutil.copytree(GOLDEN / "not_ready", run)
    page = check_page(render_run(run), run / "screenshot.png")
    assert page.console_errors == [] and page.foreign_requests == []
    assert page.dom["title"] == "Crown Safe storage report: not_ready"


def test_the_check_sees_requests_and_console_errors(tmp_path: Path) -> None:
    """The browser check can fail: a page that fetches and logs an error is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<!DOCTYPE html><html><head><title>bad</title></head><body>"
        '<img src="http://127.0.0.1:9/pixel.png" alt="x">'
        '<script>console.error("boom")</script></body></html>'
    )
    page = check_page(bad, tmp_path / "bad.png")
    assert "http://127.0.0.1:9/pixel.png" in page.foreign_requests
    assert any("boom" in e for e in page.console_errors)


def test_without_a_screenshot_path_nothing_is_saved(tmp_path: Path) -> None:
    """The screenshot is optional; an uncaught exception counts as a console error."""
    page_file = tmp_path / "throws.html"
    page_file.write_text(
        "<!DOCTYPE html><html><head><title>t</title></head><body>"
        '<script>throw new Error("kaput")</script></body></html>'
    )
    page = check_page(page_file)
    assert page.screenshot is None and page.pdf is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["throws.html"]
    assert page.console_errors == ["exception: kaput"]
    assert page.dom["title"] == "t"


def test_the_readme_screenshots_are_written_from_the_full_report(tmp_path: Path) -> None:
    """`python -m harness.report.screenshot` writes these into docs/; here into tmp."""
    top, load = write_screenshots(tmp_path)
    assert (top.name, load.name) == (TOP_SHOT, LOAD_SHOT)
    assert top.read_bytes().startswith(b"\x89PNG") and len(top.read_bytes()) > 50_000
    assert load.read_bytes().startswith(b"\x89PNG") and len(load.read_bytes()) > 100_000


def test_the_committed_screenshots_are_pngs_of_a_sensible_size() -> None:
    from PIL import Image

    docs = GOLDEN.parents[1] / "docs"
    for name, min_height in ((TOP_SHOT, TOP_HEIGHT), (LOAD_SHOT, 2000)):
        path = docs / name
        assert path.is_file(), f"{path} missing: run python -m harness.report.screenshot"
        with Image.open(path) as image:
            assert image.format == "PNG"
            width, height = image.size
        assert width >= 1000 and min_height <= height <= 16000, (name, image.size)
        assert 50_000 < path.stat().st_size < 5_000_000
