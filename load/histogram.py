"""Snapshots of locust stats entries and their differences: one window's statistics alone.

Locust's entries are cumulative: counters and a response-time histogram
(`{bucketed ms: count}`) that only grow. A window's own statistics are the difference of
two snapshots taken at its ends; its percentiles are then computed from the difference
histogram with locust's own percentile function (passed in as `percentile`, so this
module does not import locust). The window's max is the largest bucket of the
difference histogram (locust keeps no max per window; buckets have ~2 significant
digits).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from load.evaluate import EndpointStats

__all__ = ["EntrySnapshot", "Percentile", "diff", "diff_all", "window_stats"]

Percentile = Callable[[dict[int, int], int, float], float]
"""locust.stats.calculate_response_time_percentile(response_times, num_requests, percent)."""


@dataclass(frozen=True)
class EntrySnapshot:
    """The cumulative counters of one stats entry at one moment."""

    method: str
    name: str
    requests: int
    failures: int
    none_requests: int = 0
    response_times: Mapping[int, int] = field(default_factory=dict)


def diff(later: EntrySnapshot, earlier: EntrySnapshot | None) -> EntrySnapshot:
    """What happened between `earlier` and `later` (None: since the start)."""
    if earlier is None:
        return later
    if later.requests < earlier.requests or later.failures < earlier.failures:
        raise ValueError(
            f"stats of {later.method} {later.name} went backwards between snapshots "
            f"({earlier.requests} -> {later.requests} requests): were the stats reset?"
        )
    histogram = {}
    for bucket, count in later.response_times.items():
        delta = count - earlier.response_times.get(bucket, 0)
        if delta < 0:
            raise ValueError(f"histogram bucket {bucket} ms of {later.name} went backwards")
        if delta:
            histogram[bucket] = delta
    return EntrySnapshot(
        method=later.method,
        name=later.name,
        requests=later.requests - earlier.requests,
        failures=later.failures - earlier.failures,
        none_requests=later.none_requests - earlier.none_requests,
        response_times=histogram,
    )


def diff_all(
    later: Mapping[str, EntrySnapshot], earlier: Mapping[str, EntrySnapshot]
) -> dict[str, EntrySnapshot]:
    """`diff` per entry key; entries that saw no request in the window are left out."""
    window = {key: diff(snap, earlier.get(key)) for key, snap in later.items()}
    return {key: snap for key, snap in window.items() if snap.requests}


def window_stats(snap: EntrySnapshot, seconds: float, percentile: Percentile) -> EndpointStats:
    """`EndpointStats` of one window's difference snapshot lasting `seconds`."""
    timed = snap.requests - snap.none_requests

    def pct(percent: float) -> float | None:
        return float(percentile(dict(snap.response_times), timed, percent)) if timed > 0 else None

    return EndpointStats(
        method=snap.method,
        name=snap.name,
        requests=snap.requests,
        failures=snap.failures,
        rps=snap.requests / seconds if seconds > 0 else 0.0,
        p50_ms=pct(0.5),
        p95_ms=pct(0.95),
        p99_ms=pct(0.99),
        max_ms=float(max(snap.response_times)) if snap.response_times else None,
    )
