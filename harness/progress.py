"""Live progress of long work: stage by stage, with test counts as they come.

Counts come from the child pytest's report log (pytest-reportlog, `--report-log`): one JSON
line per test phase, followed while pytest writes it. On a terminal the view is a rich live
display (the child's own output goes to a log file in the run folder and only its tail is
shown on failure); elsewhere (CI logs, pipes) it is plain lines, the child's output streamed
as it comes, and one count line per stage.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

__all__ = ["SUMMARY_COLUMNS", "ReportLogFollower", "StageView", "TestCounts", "summary"]


SUMMARY_COLUMNS = ("suite", "backend", "passed", "failed", "error", "skipped", "known gap")
"""The summary table's columns; "known gap" counts the xfails (a test that failed the way
its target's known-gaps file documents), under the name the report gives them."""


@dataclass
class TestCounts:
    """Outcomes per test, its setup, call and teardown folded like pytest's summary."""

    __test__ = False

    outcomes: dict[str, str] = field(default_factory=dict)

    def add(self, report: dict[str, Any]) -> None:
        if report.get("$report_type") != "TestReport":
            return
        nodeid, when, outcome = report.get("nodeid", "?"), report.get("when"), report.get("outcome")
        seen = self.outcomes.get(nodeid)
        if outcome == "failed":
            self.outcomes[nodeid] = "failed" if when == "call" else "error"
        elif outcome == "skipped" and report.get("wasxfail") is not None:
            self.outcomes[nodeid] = "known gap"  # an xfail: the report's name for it
        elif outcome == "skipped" and seen is None:
            self.outcomes[nodeid] = "skipped"
        elif when == "call" and outcome == "passed" and seen is None:
            self.outcomes[nodeid] = "passed"

    def totals(self) -> dict[str, int]:
        counts = dict.fromkeys(("passed", "failed", "error", "skipped", "known gap"), 0)
        for outcome in self.outcomes.values():
            counts[outcome] += 1
        return counts

    def line(self) -> str:
        t = self.totals()
        return (
            ", ".join(
                f"{t[k]} {label}"
                for k, label in (("passed", "passed"), ("failed", "failed"), ("error", "errors"))
            )
            + f", {t['skipped']} skipped, {t['known gap']} known gap"
            + ("s" if t["known gap"] != 1 else "")
        )


class ReportLogFollower:
    """Follows a `--report-log` file while pytest appends to it; `stop()` reads the rest."""

    def __init__(self, path: Path, on_update: Callable[[TestCounts], None], poll_s: float = 0.3):
        self.path, self.on_update, self.poll_s = path, on_update, poll_s
        self.counts = TestCounts()
        self._offset = 0
        self._pending = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="report-log", daemon=True)

    def __enter__(self) -> ReportLogFollower:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self._read()

    def _follow(self) -> None:
        while not self._stop.wait(self.poll_s):
            self._read()

    def _read(self) -> None:
        try:
            with self.path.open("r", encoding="utf-8") as log:
                log.seek(self._offset)
                chunk = log.read()
                self._offset = log.tell()
        except FileNotFoundError:
            return
        lines = (self._pending + chunk).split("\n")
        self._pending = lines.pop()
        changed = False
        for line in lines:
            if line.strip():
                self.counts.add(json.loads(line))
                changed = True
        if changed:
            self.on_update(self.counts)


class StageView:
    """The run's stages as they happen: a live rich view, or plain lines."""

    def __init__(self, print_line: Callable[[str], None], console: Console | None = None):
        self.print_line = print_line
        self.console = console
        self.live = console is not None and console.is_terminal
        self._counts = ""
        self._lock = threading.Lock()

    @contextmanager
    def stage(self, index: int, total: int, name: str, description: str) -> Iterator[None]:
        """Show one stage while it runs (its spinner, time and test counts when live)."""
        self.print_line(f"==> [{index}/{total}] {name}: {description}")
        self._counts = ""
        if not self.live or self.console is None:
            yield
            return
        began = time.perf_counter()

        def render() -> Group:
            elapsed = time.perf_counter() - began
            head = Spinner(
                "dots", Text(f"[{index}/{total}] {name}: {description}  {elapsed:.0f} s")
            )
            return Group(head, Text(f"    {self._counts}" if self._counts else ""))

        with Live(render(), console=self.console, refresh_per_second=4, transient=True) as live:
            stop = threading.Event()

            def tick() -> None:
                while not stop.wait(0.25):
                    live.update(render())

            ticker = threading.Thread(target=tick, daemon=True)
            ticker.start()
            try:
                yield
            finally:
                stop.set()
                ticker.join()

    def counts(self, counts: TestCounts) -> None:
        with self._lock:
            self._counts = counts.line()


def summary(rows: list[dict[str, Any]], console: Console) -> None:
    """The results per suite and backend as a rich table."""
    table = Table(title="Results per suite and backend")
    for column in SUMMARY_COLUMNS:
        table.add_column(column, justify="left" if column in ("suite", "backend") else "right")
    for row in rows:
        bad = row.get("failed", 0) or row.get("error", 0)
        table.add_row(
            *(str(row.get(c, 0)) for c in SUMMARY_COLUMNS),
            style="red" if bad else None,
        )
    console.print(table)
