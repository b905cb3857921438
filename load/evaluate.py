"""SLO evaluation on plain endpoint statistics (a whole run, or one step of a step load).

`EndpointStats` holds what locust measured for one stats entry: counts, throughput and
the percentiles locust computed from its response-time histogram (never averages).

An endpoint that saw no request is *not measured*, never breached: inside one step's
window (`evaluate_step`) a short window can miss a rare request by chance; over a whole
run (`evaluate_run`) a random mix can miss a rare endpoint the same way in a short run.
Its SLOs are then not judged, and the run's notes name it. What cannot be waved through
is nothing at all: a step in which no request completed (the Aggregated row empty), and a
run in which no endpoint got a request, breach every SLO ("no requests").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from harness.runfolder.load import SloResult
from load.slo_file import AGGREGATED, Metric, Slo

__all__ = [
    "EndpointStats",
    "StepEvaluation",
    "breach_lines",
    "endpoint_key",
    "evaluate",
    "evaluate_run",
    "evaluate_step",
    "measure",
]


def endpoint_key(method: str, name: str) -> str:
    """How the SLO file names a stats entry: "GET /scans/[id]", or "Aggregated"."""
    return f"{method} {name}" if method else name


@dataclass(frozen=True)
class EndpointStats:
    method: str
    name: str
    requests: int
    failures: int
    rps: float
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None

    @property
    def key(self) -> str:
        return endpoint_key(self.method, self.name) if self.name != AGGREGATED else AGGREGATED

    @property
    def error_ratio(self) -> float | None:
        return self.failures / self.requests if self.requests else None


def measure(stats: EndpointStats | None, metric: Metric) -> float | None:
    """The value `metric` is judged on, or None when the endpoint saw no request."""
    if stats is None or stats.requests == 0:
        return None
    if metric == "error_ratio":
        return stats.error_ratio
    if metric == "min_rps":
        return stats.rps
    return stats.p95_ms if metric == "p95_ms" else stats.p99_ms


def evaluate(
    slos: Iterable[Slo], stats: Mapping[str, EndpointStats], step: int | None = None
) -> list[SloResult]:
    """One `SloResult` per SLO against `stats` (keyed by `EndpointStats.key`)."""
    results = []
    for slo in slos:
        measured = measure(stats.get(slo.endpoint), slo.metric)
        results.append(
            SloResult(
                name=slo.name,
                endpoint=slo.endpoint,
                metric=slo.metric,
                threshold=slo.threshold,
                measured=measured,
                passed=measured is not None and slo.holds(measured),
                step=step,
            )
        )
    return results


@dataclass(frozen=True)
class StepEvaluation:
    """One step's SLO results (the endpoints it measured) and the endpoints it did not."""

    results: list[SloResult]
    not_measured: list[str]


def evaluate_step(
    slos: Iterable[Slo], stats: Mapping[str, EndpointStats], step: int
) -> StepEvaluation:
    """The SLOs of the endpoints that saw a request inside the step's window (`stats`);
    the others are listed as not measured, never breached. Aggregated is always judged."""
    slos = list(slos)
    seen = {key for key, s in stats.items() if s.requests}
    judged = [s for s in slos if s.endpoint in seen or s.endpoint == AGGREGATED]
    unseen = sorted({s.endpoint for s in slos} - seen - {AGGREGATED})
    return StepEvaluation(evaluate(judged, stats, step=step), unseen)


def evaluate_run(slos: Iterable[Slo], stats: Mapping[str, EndpointStats]) -> StepEvaluation:
    """A whole plain run (or soak): the SLOs of the endpoints that got a request, the
    others listed as not measured; when no endpoint got any request, every SLO is judged
    (and breached: "no requests"), since nothing was measured at all."""
    slos = list(slos)
    seen = {key for key, s in stats.items() if s.requests and key != AGGREGATED}
    if not seen:
        return StepEvaluation(evaluate(slos, stats), [])
    judged = [s for s in slos if s.endpoint in seen or s.endpoint == AGGREGATED]
    unseen = sorted({s.endpoint for s in slos} - seen - {AGGREGATED})
    return StepEvaluation(evaluate(judged, stats), unseen)


def _shown(value: float | None) -> str:
    return "no requests" if value is None else f"measured {value:.4g}"


def breach_lines(results: Iterable[SloResult]) -> list[str]:
    """One line per breached SLO with its measured value (and its step, if any)."""
    lines = []
    for result in results:
        if result.passed:
            continue
        where = "" if result.step is None else f" [step {result.step}]"
        lines.append(f"SLO breached{where}: {result.name}: {_shown(result.measured)}")
    return lines
