"""The master's summary at quit: a `harness.runfolder.load.LoadRun` from plain statistics.

`history_points` reads locust's `stats.history` rows (dicts whose values are
`[timestamp, value]` pairs, timestamps "YYYY-MM-DDTHH:MM:SSZ"); `step_record` turns one
step's window statistics and SLO results into a `LoadStep`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from harness.runfolder.load import Knee, LoadEndpoint, LoadPoint, LoadStep, SloResult
from load.evaluate import EndpointStats, breach_lines, evaluate_step
from load.slo_file import AGGREGATED, SloSet
from load.steps import StepWindow

__all__ = ["endpoint_records", "history_points", "judge_steps", "step_record", "step_verdict"]


def _record(stats: EndpointStats) -> LoadEndpoint:
    return LoadEndpoint(
        name=stats.name,
        method=stats.method,
        requests=stats.requests,
        failures=stats.failures,
        rps=round(stats.rps, 3),
        p50_ms=stats.p50_ms,
        p95_ms=stats.p95_ms,
        p99_ms=stats.p99_ms,
        max_ms=stats.max_ms,
    )


def endpoint_records(stats: Iterable[EndpointStats]) -> list[LoadEndpoint]:
    """One record per entry, sorted by name then method, the `Aggregated` row last."""
    rows = sorted(stats, key=lambda s: (s.name == AGGREGATED, s.name, s.method))
    return [_record(s) for s in rows]


def _epoch(stamp: str) -> float:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


def _value(row: Mapping[str, Any], key: str) -> float:
    pair = row.get(key)
    return float(pair[1]) if isinstance(pair, list | tuple) and len(pair) == 2 else 0.0


def history_points(history: Sequence[Mapping[str, Any]], start_epoch: float) -> list[LoadPoint]:
    """locust's stats history as `LoadPoint`s, seconds from `start_epoch`."""
    points = []
    for row in history:
        stamp = row.get("time")
        if not isinstance(stamp, str):
            continue
        rps = _value(row, "current_rps")
        p50 = _value(row, "response_time_percentile_0.5")
        p95 = _value(row, "response_time_percentile_0.95")
        points.append(
            LoadPoint(
                t_s=round(max(0.0, _epoch(stamp) - start_epoch), 3),
                users=int(_value(row, "user_count")),
                rps=round(rps, 3),
                failures_per_s=round(_value(row, "current_fail_per_sec"), 3),
                p50_ms=p50 if rps or p50 else None,
                p95_ms=p95 if rps or p95 else None,
            )
        )
    return points


def step_record(
    window: StepWindow,
    stats: Mapping[str, EndpointStats],
    results: Sequence[SloResult],
    not_measured: Sequence[str] = (),
) -> LoadStep:
    """One step's `LoadStep`: its own statistics (`stats` of its window alone), judged on
    the SLOs of the endpoints it measured (`results`)."""
    total = stats.get(AGGREGATED)
    return LoadStep(
        index=window.index,
        users=window.users,
        start_s=window.measure_from_s,
        end_s=window.end_s,
        rps=round(total.rps, 3) if total else 0.0,
        p95_ms=total.p95_ms if total else None,
        p99_ms=total.p99_ms if total else None,
        error_ratio=(total.error_ratio or 0.0) if total else 0.0,
        slos_passed=bool(results) and all(r.passed for r in results),
        endpoints=endpoint_records(stats.values()),
        not_measured=list(not_measured),
    )


def judge_steps(
    windows: Sequence[tuple[StepWindow, Mapping[str, EndpointStats]]], slos: SloSet
) -> tuple[list[LoadStep], list[SloResult]]:
    """Each step's record and its SLO results, from its window's statistics alone: the
    SLOs of every endpoint it measured (an endpoint without a request in the window is
    listed as not measured there, not breached)."""
    steps: list[LoadStep] = []
    results: list[SloResult] = []
    for window, stats in windows:
        judged = evaluate_step(slos.for_endpoints(stats), stats, step=window.index)
        results.extend(judged.results)
        steps.append(step_record(window, stats, judged.results, judged.not_measured))
    return steps, results


def step_verdict(
    knee: Knee, min_knee_users: int, overall: Sequence[SloResult]
) -> tuple[bool, list[str]]:
    """Whether a step load passed (a knee with at least `min_knee_users`, and at least 1)
    and the notes that say so. A step load goes past capacity on purpose, so its
    whole-run SLO results (`overall`, mixing held and breached steps) do not gate and are
    not put in `slos` (which then holds the per-step results only); the notes summarise
    them."""
    least = max(1, min_knee_users)
    passed = knee.users is not None and knee.users >= least
    found = f"knee at {knee.users} users" if knee.users is not None else "no knee"
    notes = [f"step load: passes with a knee of at least {least} users ({found})"]
    if overall:
        held = sum(r.passed for r in overall)
        summary = f"whole-run SLOs (all steps mixed, not gating): {held} of {len(overall)} held"
        missed = [line.split(": ", 1)[1] for line in breach_lines(overall)]
        notes.append(summary + (f"; breached: {'; '.join(missed[:5])}" if missed else ""))
        if len(missed) > 5:
            notes[-1] += f"; and {len(missed) - 5} more"
    return passed, notes
