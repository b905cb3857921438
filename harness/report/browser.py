"""Load a report in headless Chromium over the DevTools protocol and record what happened.

Drives Debian's `chromium` directly (`--remote-debugging-port` + a websocket client), with
no browser download: Playwright and Selenium want their own browser builds, which cannot
be fetched here. `check_page` returns every network request the page made, every console
error or uncaught exception, a few DOM facts, a PNG screenshot and a printed PDF.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websocket

__all__ = ["BrowserMissingError", "PageCheck", "check_page", "find_chromium"]

INSTALL_HINT = (
    "install Debian's Chromium: `apt-get install -y --no-install-recommends chromium` "
    "(or set CHROMIUM=/path/to/chromium)"
)
DOM_FACTS = """JSON.stringify({
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

    @property
    def foreign_requests(self) -> list[str]:
        """Requests for anything other than the page itself."""
        return [u for u in self.requests if u.split("#")[0] != self.url]


def find_chromium() -> str:
    for candidate in (
        os.environ.get("CHROMIUM"),
        "chromium",
        "chromium-browser",
        "google-chrome",
        "/usr/bin/chromium",
    ):
        if candidate and (path := shutil.which(candidate)):
            return path
    raise BrowserMissingError(f"no Chromium found on PATH; {INSTALL_HINT}")


class _DevTools:
    def __init__(self, ws_url: str, timeout: float) -> None:
        self.timeout = timeout
        self.ws = websocket.create_connection(ws_url, timeout=timeout, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"DevTools {method} failed: {msg['error']}")
                return dict(msg.get("result", {}))
            self.events.append(msg)

    def wait_for(self, method: str, deadline: float, clock: Callable[[], float]) -> None:
        if any(e.get("method") == method for e in self.events):
            return
        while clock() < deadline:
            msg = json.loads(self.ws.recv())
            self.events.append(msg)
            if msg.get("method") == method:
                return
        raise TimeoutError(f"Chromium sent no {method} in time")

    def drain(self, seconds: float) -> None:
        """Collect late events (errors, requests) for `seconds` after load."""
        self.ws.settimeout(seconds)
        try:
            while True:
                self.events.append(json.loads(self.ws.recv()))
        except websocket.WebSocketTimeoutException:
            pass
        finally:
            self.ws.settimeout(self.timeout)

    def close(self) -> None:
        self.ws.close()


def _wait_port(profile: Path, proc: subprocess.Popen[bytes], deadline: float) -> int:
    marker = profile / "DevToolsActivePort"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"Chromium exited with {proc.returncode} before listening")
        if marker.is_file() and (lines := marker.read_text().split()):
            return int(lines[0])
        time.sleep(0.05)
    raise TimeoutError("Chromium did not open its DevTools port in time")


def _collect(page: PageCheck, events: list[dict[str, Any]]) -> None:
    for e in events:
        method, params = e.get("method"), e.get("params", {})
        if method == "Network.requestWillBeSent":
            page.requests.append(params["request"]["url"])
        elif method == "Runtime.exceptionThrown":
            page.console_errors.append(f"exception: {params['exceptionDetails'].get('text')}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            page.console_errors.append(f"console.{params['type']}: {args}")
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            entry = params["entry"]
            page.console_errors.append(
                f"log {entry.get('source')}: {entry.get('text')} {entry.get('url', '')}"
            )


def check_page(
    html: Path,
    screenshot: Path,
    *,
    pdf: Path | None = None,
    timeout: float = 60.0,
    width: int = 1280,
) -> PageCheck:
    """Open `html` (file://) in headless Chromium; save a full-page PNG (and a PDF)."""
    binary = find_chromium()
    url = html.resolve().as_uri()
    page = PageCheck(url=url)
    deadline = time.monotonic() + timeout
    with tempfile.TemporaryDirectory(prefix="crownsafe-chromium-") as tmp:
        profile = Path(tmp)
        args = [
            binary,
            "--headless=new",
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-dev-shm-usage",
            f"--window-size={width},900",
            "about:blank",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.insert(1, "--no-sandbox")
        log = (profile / "chromium.log").open("wb")
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            port = _wait_port(profile, proc, deadline)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as resp:
                targets = json.loads(resp.read())
            target = next(t for t in targets if t.get("type") == "page")
            tools = _DevTools(target["webSocketDebuggerUrl"], timeout)
            try:
                for domain in ("Runtime", "Log", "Network", "Page"):
                    tools.call(f"{domain}.enable")
                tools.call("Page.navigate", url=url)
                tools.wait_for("Page.loadEventFired", deadline, time.monotonic)
                tools.drain(0.5)
                facts = tools.call("Runtime.evaluate", expression=DOM_FACTS, returnByValue=True)
                page.dom = json.loads(facts["result"]["value"])
                height = min(int(page.dom.get("height", 900)), 16000)
                shot = tools.call(
                    "Page.captureScreenshot",
                    format="png",
                    captureBeyondViewport=True,
                    clip={"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
                )
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                screenshot.write_bytes(base64.b64decode(shot["data"]))
                page.screenshot = screenshot
                if pdf is not None:
                    printed = tools.call("Page.printToPDF", printBackground=True)
                    pdf.write_bytes(base64.b64decode(printed["data"]))
                    page.pdf = pdf
                tools.drain(0.2)
                _collect(page, tools.events)
            finally:
                tools.close()
        finally:
            _stop(proc)
            log.close()
    return page


def _stop(proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """Stop Chromium's whole process group (its zygote and renderers too)."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        proc.poll()
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
