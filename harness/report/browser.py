"""Load a report in headless Chromium with Playwright and record what the page did.

Playwright drives Debian's `chromium` (`executable_path`): its own browser builds cannot
be downloaded here, and none is needed. `check_page` returns every network request the
page made, every console error or uncaught exception and a few DOM facts; on request it
saves a full-page PNG screenshot and a printed PDF.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import ConsoleMessage, Error, Request, sync_playwright

from harness.settings import read_settings

__all__ = ["CHROMIUM_ARGS", "BrowserMissingError", "PageCheck", "check_page", "find_chromium"]

INSTALL_HINT = (
    "install Debian's Chromium: `apt-get install -y --no-install-recommends chromium` "
    "(or set CHROMIUM=/path/to/chromium)"
)
# Headless, and nothing that would reach the network on its own (updates, sync, QUIC
# probes): the report must load from the file alone. --no-sandbox is added as root only,
# where Chromium refuses to start with its sandbox.
CHROMIUM_ARGS = (
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
MAX_SCREENSHOT_HEIGHT = 16000
DOM_SUMMARY = """() => JSON.stringify({
  title: document.title,
  h2: [...document.querySelectorAll('h2')].map(h => h.textContent.trim()),
  tables: document.querySelectorAll('table').length,
  captions: document.querySelectorAll('table > caption').length,
  svgs: document.querySelectorAll('svg').length,
  svgs_labelled: document.querySelectorAll('svg[role=img][aria-labelledby]').length,
  scripts: document.scripts.length,
  height: document.documentElement.scrollHeight
})"""


class BrowserMissingError(RuntimeError):
    """No Chromium binary to run the browser check with."""


@dataclass
class PageCheck:
    url: str
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    dom: dict[str, Any] = field(default_factory=dict)
    screenshot: Path | None = None
    pdf: Path | None = None
    shots: dict[str, Path] = field(default_factory=dict)

    @property
    def foreign_requests(self) -> list[str]:
        """Requests for anything other than the page itself."""
        return [u for u in self.requests if u.split("#")[0] != self.url]


def find_chromium() -> str:
    for candidate in (
        read_settings().chromium,
        "chromium",
        "chromium-browser",
        "google-chrome",
        "/usr/bin/chromium",
    ):
        if candidate and (path := shutil.which(candidate)):
            return path
    raise BrowserMissingError(f"no Chromium found on PATH; {INSTALL_HINT}")


def _chromium_args() -> list[str]:
    as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    return [*CHROMIUM_ARGS, *(["--no-sandbox"] if as_root else [])]


def check_page(
    html: Path,
    screenshot: Path | None = None,
    *,
    pdf: Path | None = None,
    shots: Mapping[str, Path] | None = None,
    top: int | None = None,
    timeout: float = 60.0,
    width: int = 1280,
) -> PageCheck:
    """Open `html` (file://) in headless Chromium and record its requests, errors and DOM
    facts; save a full-page PNG at `screenshot` (only its first `top` pixels when given),
    a PNG of each element `shots` names by CSS selector, and a PDF at `pdf`."""
    binary = find_chromium()
    url = html.resolve().as_uri()
    result = PageCheck(url=url)

    def on_request(request: Request) -> None:
        result.requests.append(request.url)

    def on_console(message: ConsoleMessage) -> None:
        if message.type in ("error", "assert"):
            where = message.location.get("url", "")
            result.console_errors.append(f"console.{message.type}: {message.text} {where}".strip())

    def on_page_error(error: Error) -> None:
        result.console_errors.append(f"exception: {error.message}")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=binary, args=_chromium_args(), timeout=timeout * 1000
        )
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.set_default_timeout(timeout * 1000)
            page.on("request", on_request)
            page.on("console", on_console)
            page.on("pageerror", on_page_error)
            page.goto(url, wait_until="load")
            page.wait_for_timeout(500)  # late requests and errors after the load event
            result.dom = json.loads(page.evaluate(DOM_SUMMARY))
            if screenshot is not None:
                height = min(int(result.dom.get("height", 900)), top or MAX_SCREENSHOT_HEIGHT)
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(
                    path=screenshot,
                    full_page=True,
                    clip={"x": 0, "y": 0, "width": width, "height": height},
                )
                result.screenshot = screenshot
            for selector, target in (shots or {}).items():
                target.parent.mkdir(parents=True, exist_ok=True)
                page.locator(selector).screenshot(path=target)
                result.shots[selector] = target
            if pdf is not None:
                pdf.parent.mkdir(parents=True, exist_ok=True)
                page.pdf(path=pdf, print_background=True)
                result.pdf = pdf
        finally:
            browser.close()
    return result
