"""harness.bench.scrape and mixload: the paced scraper (injected clock, no sleep), series
counting, the bench/scrape.json entry and its verdict rule (ScrapePoint.decide), the p99's
order-statistic interval, and the load's pacing and rates."""

from __future__ import annotations

import itertools
import threading
from typing import Any

import numpy as np
import pytest

from harness.bench import stats
from harness.bench.mixload import KindCounts, paced, parse_rates
from harness.bench.scrape import Scrape, count_series, scrape_entry, scrape_paced
from harness.runfolder.bench import ScrapePoint

BODY = (
    b"# HELP a_total A.\n# TYPE a_total counter\n"
    b'a_total{route="/x"} 1.0\na_total{route="/y"} 2.0\n'
    b"# HELP h H.\n# TYPE h histogram\n"
    b'h_bucket{le="0.1"} 1.0\nh_bucket{le="+Inf"} 1.0\nh_count 1.0\nh_sum 0.05\n'
)


class _Clock:
    """A clock that advances only when the code under test sleeps or a fetch takes time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 9))
        self.now += seconds


def test_scrapes_start_on_the_pace_and_a_slow_one_delays_only_the_next() -> None:
    clock = _Clock()
    took = iter([0.01, 0.01, 0.25, 0.01, 0.01, 0.01, 0.01, 0.01])
    starts: list[float] = []

    def fetch() -> Scrape:
        starts.append(round(clock.now, 9))
        clock.now += next(took)
        return Scrape(200, BODY)

    result = scrape_paced(fetch, 0.1, 0.7, warmup=1, clock=clock, sleep=clock.sleep)
    # the third scrape outlasted two intervals: the next starts at once, no catching up
    assert starts == pytest.approx([0.0, 0.1, 0.2, 0.45, 0.55, 0.65])
    assert result.latencies == pytest.approx([0.01, 0.25, 0.01, 0.01, 0.01])
    assert result.failed == 0 and result.last_body == BODY
    assert result.seconds == pytest.approx(0.66)


def test_the_reference_is_timed_right_after_each_scrape_and_not_in_the_warmup() -> None:
    clock = _Clock()
    calls: list[str] = []

    def fetch() -> Scrape:
        calls.append("scrape")
        clock.now += 0.02
        return Scrape(200, BODY)

    def health() -> Scrape:
        calls.append("health")
        clock.now += 0.003
        return Scrape(503 if len(calls) == 6 else 200, b"")

    result = scrape_paced(
        fetch, 0.1, 0.3, reference=health, warmup=1, clock=clock, sleep=clock.sleep
    )
    assert calls == ["scrape", "health"] * 3
    assert result.latencies == pytest.approx([0.02, 0.02])
    assert result.reference == pytest.approx([0.003, 0.003])
    assert result.reference_failed == 1


def test_scrapes_not_answered_200_are_counted() -> None:
    clock = _Clock()
    statuses = iter([200, 401, 200, 503])

    def fetch() -> Scrape:
        clock.now += 0.01
        return Scrape(next(statuses), b"")

    result = scrape_paced(fetch, 0.1, 0.35, warmup=0, clock=clock, sleep=clock.sleep)
    assert len(result.latencies) == 4 and result.failed == 2


def test_series_are_the_samples_of_the_exposition() -> None:
    assert count_series(BODY) == 6


def test_the_p99_interval_is_two_order_statistics_and_none_when_too_few() -> None:
    values = np.arange(1, 1001, dtype=float)
    p99, low, high = stats.quantile_ci(values, 0.99)
    assert p99 == pytest.approx(990.01)
    assert low is not None and high is not None
    assert low < p99 < high and low in values and high in values
    assert stats.quantile_ci(values[:100], 0.99)[2] is None
    with pytest.raises(ValueError, match="quantile"):
        stats.quantile_ci(values, 1.0)


def _point(**change: Any) -> ScrapePoint:
    fields: dict[str, Any] = dict(
        backend="azure", goal_p99_ms=50.0, p99_ms=30.0, ci_low_ms=25.0, ci_high_ms=40.0,
        p50_ms=8.0, p90_ms=15.0, max_ms=60.0, scrapes=1000, interval_s=0.03, seconds=30.0,
        exposition_bytes=20000, series=180, load_rps=26.0, measured=True,
    )  # fmt: skip
    fields.update(change)
    return ScrapePoint(**fields)


@pytest.mark.parametrize(
    ("change", "verdict"),
    [
        ({}, "met"),
        ({"ci_high_ms": 49.99}, "met"),
        ({"ci_high_ms": 50.0}, "undecided"),
        ({"p99_ms": 55.0, "ci_low_ms": 48.0, "ci_high_ms": 60.0}, "undecided"),
        ({"p99_ms": 55.0, "ci_low_ms": 50.0, "ci_high_ms": 60.0}, "not met"),
        ({"ci_high_ms": None}, "undecided"),
        ({"failed_scrapes": 1}, "not met"),
        ({"measured": False}, "undecided"),
        ({"measured": False, "p99_ms": 500.0, "ci_low_ms": 400.0}, "undecided"),
    ],
)
def test_the_goal_verdict(change: dict[str, Any], verdict: str) -> None:
    decided, reason = _point(**change).decide()
    assert decided == verdict, reason
    assert "p99" in reason


def test_an_entry_carries_its_numbers_and_its_verdict() -> None:
    clock = _Clock()
    latencies = (0.002 + 0.00001 * (i % 100) for i in itertools.count())

    def fetch() -> Scrape:
        clock.now += next(latencies)
        return Scrape(200, BODY)

    scrapes = scrape_paced(fetch, 0.0, 1.5, warmup=0, clock=clock, sleep=clock.sleep)
    load = {"seconds": 2.0, "kinds": {"health": {"requests": 40, "failed": 0, "late": 1},
                                      "job": {"requests": 20, "failed": 1, "late": 0}}}  # fmt: skip
    entry = scrape_entry(scrapes, load, backend="s3", interval=0.0, measured=True,
                         profile="quick", jobs=5, app_cpu_ms_per_scrape=2.5)  # fmt: skip
    point = ScrapePoint.model_validate(entry)
    assert point.scrapes == len(scrapes.latencies) >= 470
    assert point.p50_ms < point.p99_ms <= point.max_ms
    assert point.ci_high_ms is not None and point.ci_high_ms < 50.0
    assert (point.verdict, point.series, point.exposition_bytes) == ("met", 6, len(BODY))
    assert (point.load_rps, point.load_failures, point.jobs_in_database) == (30.0, 1, 5)
    assert point.load_requests == {"health": 40, "job": 20}
    assert (point.app_cpu_ms_per_scrape, point.health_p99_ms) == (2.5, None)
    with pytest.raises(ValueError, match="no scrape"):
        scrape_entry(type(scrapes)(), load, backend="s3", interval=0.1, measured=True,
                     profile="quick")  # fmt: skip


def test_rates_parse_and_unknown_kinds_or_zero_rates_are_refused() -> None:
    assert parse_rates("upload=2, health=8.5") == {"upload": 2.0, "health": 8.5}
    with pytest.raises(ValueError, match="unknown kind"):
        parse_rates("delete=1")
    with pytest.raises(ValueError, match="above 0"):
        parse_rates("share=0")


def test_the_load_keeps_its_pace_and_counts_missed_ticks_instead_of_bursting() -> None:
    clock = _Clock()
    stop = threading.Event()
    durations = iter([0.01, 0.35, 0.01, 0.01])
    starts: list[float] = []

    def call() -> bool:
        starts.append(round(clock.now, 9))
        clock.now += next(durations)
        if len(starts) == 4:
            stop.set()
        return len(starts) != 3

    class _Stop:
        def is_set(self) -> bool:
            return stop.is_set()

        def wait(self, seconds: float) -> bool:
            clock.sleep(seconds)
            return stop.is_set()

    counts = KindCounts()
    paced(call, 10.0, _Stop(), counts, clock=clock)  # type: ignore[arg-type]
    assert starts == pytest.approx([0.0, 0.1, 0.45, 0.5])  # the 0.4 tick, sent late
    assert (counts.requests, counts.failed, counts.late) == (4, 1, 2)
