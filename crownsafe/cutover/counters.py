"""What the cut-over counts: fallback reads and failed second writes, per operation.

Kept in memory (the drill and the tests read `totals()`) and, when a registry is given,
exposed as Prometheus counters on the app's `/metrics`:
`crownsafe_cutover_fallback_reads_total{operation}` and
`crownsafe_cutover_second_write_failures_total{operation}`. Listeners added with
`add_fallback_listener` hear of every fallback read too (the API writes an audit row).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter as Tally
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter

__all__ = ["CutoverCounters"]

log = logging.getLogger("crownsafe.cutover")


class CutoverCounters:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self._lock = threading.Lock()
        self._fallbacks: Tally[str] = Tally()
        self._second_write_failures: Tally[str] = Tally()
        self._fallback_metric = self._second_metric = None
        self._listeners: list[Callable[[str, str], None]] = []
        if registry is not None:
            self._fallback_metric = Counter(
                "crownsafe_cutover_fallback_reads",
                "Reads served from S3 because Azure did not have the blob yet",
                ["operation"],
                registry=registry,
            )
            self._second_metric = Counter(
                "crownsafe_cutover_second_write_failures",
                "Second writes (the store that is not authoritative) that failed",
                ["operation"],
                registry=registry,
            )

    def add_fallback_listener(self, listener: Callable[[str, str], None]) -> None:
        """Also call `listener(operation, blob_name)` on each fallback read (the API's audit
        trail); a listener's failure is its own, never the read's."""
        self._listeners.append(listener)

    def fallback(self, operation: str, blob_name: str) -> None:
        with self._lock:
            self._fallbacks[operation] += 1
        if self._fallback_metric is not None:
            self._fallback_metric.labels(operation).inc()
        for listener in self._listeners:
            try:
                listener(operation, blob_name)
            except Exception as exc:  # the read already succeeded; say so and go on
                log.warning("fallback listener failed: %s", type(exc).__name__)

    def second_write_failed(self, operation: str, blob_name: str) -> None:
        with self._lock:
            self._second_write_failures[operation] += 1
        if self._second_metric is not None:
            self._second_metric.labels(operation).inc()

    def totals(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {
                "fallback_reads": dict(self._fallbacks),
                "second_write_failures": dict(self._second_write_failures),
            }
