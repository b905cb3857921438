"""JobStatusCollector: a scrape answers with the last finished count and never waits for
the next one (injected clock and starter: no thread, no sleep)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pytest

from crownsafe.api.metrics import ApiMetrics, JobStatusCollector


class _Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


class _Later:
    """A starter that keeps the background counts until `run()` says they ran."""

    def __init__(self) -> None:
        self.pending: list[Callable[[], None]] = []

    def __call__(self, work: Callable[[], None]) -> None:
        self.pending.append(work)

    def run(self) -> None:
        work, self.pending = self.pending, []
        for item in work:
            item()


def _scraped(collector: JobStatusCollector) -> dict[str, float]:
    (family,) = list(collector.collect())
    assert family.name == "crownsafe_image_jobs"
    return {s.labels["status"]: s.value for s in family.samples}


def _counter(values: list[Mapping[str, int] | Exception]) -> Callable[[], Mapping[str, int]]:
    def counts() -> Mapping[str, int]:
        value = values.pop(0)
        if isinstance(value, Exception):
            raise value
        return value

    return counts


def test_a_scrape_shows_the_last_finished_count_while_the_next_one_runs() -> None:
    clock, later = _Clock(), _Later()
    counts = _counter([{"queued": 1}, {"queued": 2, "failed": 1}])
    collector = JobStatusCollector(counts, interval_s=1.0, first_wait_s=0.0, clock=clock,
                                   start=later)  # fmt: skip
    assert _scraped(collector) == {}  # the first count has not finished
    later.run()
    assert _scraped(collector) == {"queued": 1.0}  # not due yet: no new count started
    assert later.pending == []
    clock.now += 1.0
    assert _scraped(collector) == {"queued": 1.0}  # due: started, answered from the last
    assert len(later.pending) == 1
    assert _scraped(collector) == {"queued": 1.0}  # one count at a time
    assert len(later.pending) == 1
    later.run()
    assert _scraped(collector) == {"failed": 1.0, "queued": 2.0}


def test_at_most_one_count_per_interval_however_often_it_is_scraped() -> None:
    clock, calls = _Clock(), []

    def counts() -> dict[str, int]:
        calls.append(clock.now)
        return {"completed": len(calls)}

    collector = JobStatusCollector(counts, interval_s=1.0, clock=clock, start=lambda w: w())
    for _ in range(30):
        _scraped(collector)
        clock.now += 0.1
    assert calls == pytest.approx([50.0, 51.0, 52.0])


def test_a_failed_count_leaves_no_sample_until_one_succeeds() -> None:
    clock = _Clock()
    counts = _counter([{"queued": 4}, OSError("database down"), {"queued": 5}])
    collector = JobStatusCollector(counts, interval_s=1.0, clock=clock, start=lambda w: w())
    assert _scraped(collector) == {"queued": 4.0}
    clock.now += 1.0
    assert _scraped(collector) == {}  # never the outdated 4
    clock.now += 1.0
    assert _scraped(collector) == {"queued": 5.0}


def test_the_app_registry_serves_the_counts_beside_its_own_metrics() -> None:
    metrics = ApiMetrics(storage=None)
    metrics.add_collector(JobStatusCollector(lambda: {"completed": 7}, start=lambda w: w()))
    text = metrics.exposition().decode()
    assert 'crownsafe_image_jobs{status="completed"} 7.0' in text
    assert "# TYPE crownsafe_http_requests_total counter" in text
