"""load.histogram: a window's statistics are the difference of two cumulative snapshots."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from load.histogram import EntrySnapshot, diff, diff_all, window_stats


def nearest_rank(histogram: Mapping[int, int], count: int, percent: float) -> int:
    """A plain nearest-rank percentile over a {ms: count} histogram (for the tests)."""
    rank, seen = max(1, round(count * percent)), 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= rank:
            return bucket
    return 0


def snap(requests: int, failures: int, times: dict[int, int], none: int = 0) -> EntrySnapshot:
    return EntrySnapshot("POST", "/uploads", requests, failures, none, times)


def test_the_difference_holds_only_the_window() -> None:
    early = snap(100, 1, {10: 90, 20: 10})
    late = snap(160, 4, {10: 90, 20: 10, 500: 50, 900: 10})
    window = diff(late, early)
    assert (window.requests, window.failures) == (60, 3)
    assert window.response_times == {500: 50, 900: 10}


def test_window_percentiles_come_from_the_window_histogram_alone() -> None:
    early = snap(2000, 0, {10: 2000})
    late = snap(2100, 0, {10: 2000, 400: 90, 800: 10})
    whole = window_stats(late, 100.0, nearest_rank)
    window = window_stats(diff(late, early), 10.0, nearest_rank)
    assert whole.p95_ms == 10  # the slow window is hidden in the cumulative histogram
    assert (window.p50_ms, window.p95_ms, window.p99_ms, window.max_ms) == (400, 800, 800, 800)
    assert (window.requests, window.rps) == (100, 10.0)


def test_requests_without_a_response_time_are_not_in_the_percentile_count() -> None:
    calls: list[int] = []

    def spy(histogram: Mapping[int, int], count: int, percent: float) -> int:
        calls.append(count)
        return nearest_rank(histogram, count, percent)

    stats = window_stats(snap(10, 0, {5: 8}, none=2), 1.0, spy)
    assert set(calls) == {8}
    assert stats.requests == 10
    assert window_stats(snap(3, 3, {}, none=3), 1.0, spy).p95_ms is None


def test_counters_that_go_backwards_mean_a_reset_and_are_refused() -> None:
    with pytest.raises(ValueError, match="went backwards"):
        diff(snap(5, 0, {10: 5}), snap(9, 0, {10: 9}))
    with pytest.raises(ValueError, match="bucket 10 ms"):
        diff(snap(9, 0, {10: 1, 20: 8}), snap(5, 0, {10: 5}))


def test_diff_all_drops_entries_idle_in_the_window_and_keeps_new_ones() -> None:
    idle = EntrySnapshot("GET", "/health", 7, 0, 0, {3: 7})
    new = EntrySnapshot("GET", "/scans", 2, 0, 0, {4: 2})
    result = diff_all({"GET /health": idle, "GET /scans": new}, {"GET /health": idle})
    assert list(result) == ["GET /scans"]
    assert result["GET /scans"].requests == 2
