"""What Prometheus says about its alerts, polled: pending, firing, resolved, and when.

`AlertWatch` reads `/api/v1/alerts` every `interval` seconds in a thread and folds each
answer into spans (`track`, pure): an alert (its name and labels) seen for the first time
opens a span at Prometheus' own `activeAt`; the first answer showing it `firing` sets its
firing time; the first answer without it closes the span (resolved). Seen again later, it
opens a new span. Times are seconds since `origin` (the wall clock, which Prometheus shares
on this machine).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from harness.runfolder.alerts import AlertSpan

__all__ = ["ActiveAlert", "AlertWatch", "Tracker", "parse_alerts", "track"]


@dataclass(frozen=True)
class ActiveAlert:
    """One alert of an `/api/v1/alerts` answer."""

    alert: str
    labels: tuple[tuple[str, str], ...]
    state: str
    active_at: float

    @property
    def key(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        return self.alert, self.labels


def _epoch(stamp: str) -> float:
    # RFC 3339 with nanoseconds ("2026-12-07T21:40:01.123456789Z"): keep microseconds
    head, _, rest = stamp.rstrip("Z").partition(".")
    digits = "".join(c for c in rest if c.isdigit())[:6]
    text = f"{head}.{digits or '0'}+00:00"
    return datetime.fromisoformat(text).timestamp()


def parse_alerts(answer: Mapping[str, Any]) -> list[ActiveAlert]:
    """The alerts of one `/api/v1/alerts` JSON answer."""
    alerts = []
    for item in answer.get("data", {}).get("alerts", []):
        labels = {str(k): str(v) for k, v in item.get("labels", {}).items()}
        name = labels.pop("alertname", "?")
        alerts.append(
            ActiveAlert(
                name,
                tuple(sorted(labels.items())),
                str(item.get("state", "")),
                _epoch(str(item.get("activeAt", "1970-01-01T00:00:00Z"))),
            )
        )
    return alerts


@dataclass
class Tracker:
    """Open spans by alert key, and every span opened so far (in order)."""

    origin: float
    spans: list[AlertSpan] = field(default_factory=list)
    open: dict[tuple[str, tuple[tuple[str, str], ...]], int] = field(default_factory=dict)


def track(tracker: Tracker, seen: Iterable[ActiveAlert], at: float) -> None:
    """Fold one answer (`seen`, polled at wall time `at`) into `tracker`'s spans."""
    now = round(at - tracker.origin, 3)
    current = {a.key: a for a in seen}
    for key, index in list(tracker.open.items()):
        if key not in current:
            tracker.spans[index].resolved_s = now
            del tracker.open[key]
    for key, alert in current.items():
        if key not in tracker.open:
            tracker.spans.append(
                AlertSpan(
                    alert=alert.alert,
                    labels=dict(alert.labels),
                    pending_s=round(min(alert.active_at - tracker.origin, now), 3),
                )
            )
            tracker.open[key] = len(tracker.spans) - 1
        span = tracker.spans[tracker.open[key]]
        if alert.state == "firing" and span.firing_s is None:
            span.firing_s = now


class AlertWatch:
    """Poll a Prometheus' `/api/v1/alerts` in a thread; `tracker.spans` is the record."""

    def __init__(
        self,
        url: str,
        origin: float,
        interval: float = 0.25,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = url.rstrip("/") + "/api/v1/alerts"
        self.tracker = Tracker(origin)
        self.interval, self.clock = interval, clock
        self.polls = 0
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="alert-watch", daemon=True)
        self._client = httpx.Client(timeout=5.0, trust_env=False)

    def start(self) -> AlertWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self._client.close()

    def active(self) -> list[AlertSpan]:
        """Spans open now (pending or firing)."""
        with self._lock:
            return [self.tracker.spans[i].model_copy() for i in self.tracker.open.values()]

    def spans(self) -> list[AlertSpan]:
        with self._lock:
            return [s.model_copy() for s in self.tracker.spans]

    def poll_once(self) -> None:
        at = self.clock()
        try:
            response = self._client.get(self.url)
            response.raise_for_status()
            seen = parse_alerts(response.json())
        except (httpx.HTTPError, ValueError) as exc:
            self.errors.append(f"{type(exc).__name__}: {exc}"[:200])
            return
        with self._lock:
            track(self.tracker, seen, at)
            self.polls += 1

    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll_once()
            self._stop.wait(self.interval)
