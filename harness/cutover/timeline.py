"""Cut the drill's request records and samples into phases (pure functions).

Inputs: the JSON lines `load/cutover.py` wrote (one per request: start time, name, ok,
ms, failure text), the phase changes (wall-clock times), the fault windows, and the
sampler's per-second readings of the app's fallback counter and the copier's ledger.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.runfolder.cutover import EndpointWindow, FaultWindow, PhaseWindow

__all__ = [
    "PhaseMark",
    "RequestRecord",
    "Sample",
    "excused_failures",
    "phase_windows",
    "read_records",
    "recovery_second",
]


@dataclass(frozen=True)
class RequestRecord:
    t: float
    name: str
    ok: bool
    ms: float
    error: str = ""


@dataclass(frozen=True)
class PhaseMark:
    phase: str
    at: float


@dataclass(frozen=True)
class Sample:
    at: float
    fallback_reads: float
    verified: int


def read_records(path: Path) -> list[RequestRecord]:
    records: list[RequestRecord] = []
    if not path.exists():
        return records
    for line in path.read_text("utf-8").splitlines():
        if not line.strip():
            continue
        raw = json.loads(line)
        records.append(
            RequestRecord(
                float(raw["t"]),
                str(raw["name"]),
                bool(raw["ok"]),
                float(raw["ms"]),
                str(raw.get("error", "")),
            )
        )
    return sorted(records, key=lambda r: r.t)


def _p95(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)], 1)


def _in(t: float, start: float, end: float) -> bool:
    return start <= t < end


def phase_windows(
    marks: Sequence[PhaseMark],
    end: float,
    origin: float,
    records: Sequence[RequestRecord],
    samples: Sequence[Sample],
) -> list[PhaseWindow]:
    """One window per phase mark (to the next mark, the last one to `end`); times in
    seconds since `origin` (the start of the load)."""
    windows = []
    bounds = [*(m.at for m in marks[1:]), end]
    for mark, until in zip(marks, bounds, strict=True):
        inside = [r for r in records if _in(r.t, mark.at, until)]
        by_name: dict[str, list[RequestRecord]] = defaultdict(list)
        for record in inside:
            by_name[record.name].append(record)
        endpoints = [
            EndpointWindow(
                name=name,
                requests=len(rs),
                failures=sum(not r.ok for r in rs),
                p95_ms=_p95([r.ms for r in rs]),
                failure_examples=sorted({r.error for r in rs if not r.ok and r.error})[:3],
            )
            for name, rs in sorted(by_name.items())
        ]
        fallback, copied = _deltas(samples, mark.at, until)
        windows.append(
            PhaseWindow(
                phase=mark.phase,
                started_s=round(mark.at - origin, 2),
                ended_s=round(until - origin, 2),
                endpoints=endpoints,
                fallback_reads=int(fallback),
                objects_copied=copied,
                timeline=_per_second(inside, samples, mark.at, until, origin),
            )
        )
    return windows


def _value_at(samples: Sequence[Sample], t: float) -> Sample | None:
    before = [s for s in samples if s.at <= t]
    return before[-1] if before else (samples[0] if samples else None)


def _deltas(samples: Sequence[Sample], start: float, end: float) -> tuple[float, int]:
    first, last = _value_at(samples, start), _value_at(samples, end)
    if first is None or last is None:
        return 0.0, 0
    return max(0.0, last.fallback_reads - first.fallback_reads), max(
        0, last.verified - first.verified
    )


def _per_second(
    records: Sequence[RequestRecord],
    samples: Sequence[Sample],
    start: float,
    end: float,
    origin: float,
) -> list[list[float]]:
    rows = []
    second = math.floor(start)
    while second < end:
        lo, hi = max(start, second), min(end, second + 1)
        inside = [r for r in records if _in(r.t, lo, hi)]
        fallback, _ = _deltas(samples, lo, hi)
        p95 = _p95([r.ms for r in inside])
        rows.append(
            [
                round(lo - origin, 2),
                float(len(inside)),
                float(sum(not r.ok for r in inside)),
                p95 if p95 is not None else 0.0,
                fallback,
            ]
        )
        second += 1
    return rows


def recovery_second(records: Iterable[RequestRecord], cleared: float) -> float | None:
    """When users stopped seeing the fault: the last failed request after `cleared` (or
    `cleared` itself when none failed), provided requests succeeded after it; None when
    failures go on to the end."""
    after = [r for r in records if r.t >= cleared]
    last_failure = max((r.t for r in after if not r.ok), default=None)
    if last_failure is None:
        return cleared
    later = [r for r in after if r.t > last_failure]
    return last_failure if later else None


def excused_failures(
    records: Iterable[RequestRecord], faults: Sequence[FaultWindow], origin: float
) -> dict[str, dict[str, int]]:
    """Failures per endpoint of requests that were running inside each fault's window
    (from the fault's start, so a request in flight when it began counts, to recovery, or
    to clearing plus its allowance when it never recovered)."""
    excused: dict[str, dict[str, int]] = {}
    for fault in faults:
        start = origin + fault.started_s
        until = origin + (
            fault.recovered_s
            if fault.recovered_s is not None
            else fault.cleared_s + fault.max_recovery_s
        )
        counts: dict[str, int] = defaultdict(int)
        for record in records:
            if not record.ok and record.t + record.ms / 1000 >= start and record.t <= until:
                counts[record.name] += 1
        excused[fault.kind] = dict(counts)
    return excused
