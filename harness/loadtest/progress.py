"""Live progress of a locust run: elapsed/total, users, RPS, failures.

Read from locust's own `*_stats_history.csv` (`--csv-full-history`) as locust flushes it
(every few seconds): the last `Aggregated` row gives the current users, RPS and the total
requests and failures. On a terminal a rich live line; elsewhere one plain line per update.
"""

from __future__ import annotations

import csv
import io
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.spinner import Spinner
from rich.text import Text

__all__ = ["HistoryFollower", "LiveStatus", "progress_view"]


@dataclass(frozen=True)
class LiveStatus:
    """The run's state from the last aggregated history row."""

    users: int = 0
    rps: float = 0.0
    requests: int = 0
    failures: int = 0

    def line(self, elapsed_s: float, total_s: float | None) -> str:
        total = f"/{total_s:.0f}" if total_s else ""
        return (
            f"{elapsed_s:.0f}{total} s  users {self.users}  {self.rps:.1f} req/s  "
            f"{self.requests} requests  {self.failures} failed"
        )


def last_aggregated(text: str) -> LiveStatus | None:
    """The last complete `Aggregated` row of a stats-history CSV text, or None."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines = lines[:-1]  # a row locust is still writing
    found: LiveStatus | None = None
    for row in csv.DictReader(io.StringIO("".join(lines))):
        if row.get("Name") != "Aggregated":
            continue
        try:
            found = LiveStatus(
                users=int(float(row.get("User Count") or 0)),
                rps=float(row.get("Requests/s") or 0.0),
                requests=int(float(row.get("Total Request Count") or 0)),
                failures=int(float(row.get("Total Failure Count") or 0)),
            )
        except ValueError:
            continue
    return found


class HistoryFollower:
    """Polls the history CSV; `status` is the latest state, `on_update` hears changes."""

    def __init__(
        self, path: Path, on_update: Callable[[LiveStatus], None], poll_s: float = 1.0
    ) -> None:
        self.path, self.on_update, self.poll_s = path, on_update, poll_s
        self.status = LiveStatus()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="load-progress", daemon=True)

    def __enter__(self) -> HistoryFollower:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.read()

    def _loop(self) -> None:
        while not self._stop.wait(self.poll_s):
            self.read()

    def read(self) -> None:
        try:
            text = self.path.read_text("utf-8", errors="replace")
        except OSError:
            return
        status = last_aggregated(text)
        if status is not None and status != self.status:
            self.status = status
            self.on_update(status)


@contextmanager
def progress_view(
    label: str,
    total_s: float | None,
    console: Console | None,
    print_line: Callable[[str], None],
) -> Iterator[Callable[[LiveStatus], None]]:
    """Yields `update(status)`; shows a live spinner line on a terminal, else plain lines."""
    began = time.monotonic()
    state = {"status": LiveStatus()}

    def text() -> str:
        return f"{label}  " + state["status"].line(time.monotonic() - began, total_s)

    if console is None or not console.is_terminal:

        def plain(status: LiveStatus) -> None:
            state["status"] = status
            print_line("    " + text())

        yield plain
        return
    with Live(Spinner("dots", Text(text())), console=console, transient=True) as live:
        stop = threading.Event()

        def tick() -> None:
            while not stop.wait(0.5):
                live.update(Spinner("dots", Text(text())))

        ticker = threading.Thread(target=tick, daemon=True)
        ticker.start()

        def update(status: LiveStatus) -> None:
            state["status"] = status

        try:
            yield update
        finally:
            stop.set()
            ticker.join()
