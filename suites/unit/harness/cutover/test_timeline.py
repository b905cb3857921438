"""The drill's bookkeeping (pure): requests cut into phases, fault windows, recovery, and
the one rule `CutoverFile.broken_promises` that makes a drill not ready."""

from __future__ import annotations

from harness.cutover.timeline import (
    PhaseMark,
    RequestRecord,
    Sample,
    excused_failures,
    phase_windows,
    recovery_second,
)
from harness.runfolder.cutover import (
    CutoverFile,
    EndpointWindow,
    FaultWindow,
    ObjectCheck,
    PhaseWindow,
)

T0 = 1_000.0


def rec(t: float, name: str = "/uploads", ok: bool = True, ms: float = 10.0) -> RequestRecord:
    return RequestRecord(T0 + t, name, ok, ms, "" if ok else "HTTP 503 (expected 202)")


def test_requests_fall_into_the_phase_that_was_in_force_when_they_started() -> None:
    marks = [PhaseMark("dual-write", T0), PhaseMark("backfill", T0 + 10)]
    records = [rec(1), rec(9.99), rec(10.0, ok=False), rec(15, "/scans")]
    samples = [Sample(T0, 0, 0), Sample(T0 + 10, 2, 5), Sample(T0 + 20, 7, 30)]
    first, second = phase_windows(marks, T0 + 20, T0, records, samples)
    assert (first.phase, first.requests, first.failures) == ("dual-write", 2, 0)
    assert (second.phase, second.requests, second.failures) == ("backfill", 2, 1)
    assert (first.fallback_reads, first.objects_copied) == (2, 5)
    assert (second.fallback_reads, second.objects_copied) == (5, 25)
    assert [e.name for e in second.endpoints] == ["/scans", "/uploads"]
    assert second.endpoints[1].failure_examples == ["HTTP 503 (expected 202)"]
    assert len(first.timeline) == 10
    assert [row[1] for row in first.timeline[:3]] == [0.0, 1.0, 0.0]


def test_recovery_is_the_last_failure_after_clearing_when_requests_then_succeed() -> None:
    records = [rec(1, ok=False), rec(5, ok=False), rec(6), rec(7)]
    assert recovery_second(records, T0 + 2) == T0 + 5
    assert recovery_second([rec(3), rec(4)], T0 + 2) == T0 + 2
    assert recovery_second([rec(3), rec(4, ok=False)], T0 + 2) is None


def test_a_request_in_flight_when_the_fault_began_counts_inside_its_window() -> None:
    fault = FaultWindow(
        kind="azure down",
        phase="azure-reads",
        started_s=10,
        cleared_s=13,
        recovered_s=15,
        max_recovery_s=5,
    )
    records = [
        rec(9.5, ok=False, ms=800),
        rec(8.0, ok=False, ms=100),
        rec(15.0, ok=False),
        rec(15.5, ok=False),
    ]
    assert excused_failures(records, [fault], T0) == {"azure down": {"/uploads": 2}}


def _drill(**changes: object) -> CutoverFile:
    phases = [
        PhaseWindow(
            phase=name,
            started_s=i * 10.0,
            ended_s=i * 10.0 + 10,
            endpoints=[EndpointWindow(name="/uploads", requests=20, failures=0)],
        )
        for i, name in enumerate(("dual-write", "backfill", "azure-reads", "azure-only"))
    ]
    fields: dict[str, object] = {
        "objects_seeded": 10,
        "phases": phases,
        "final": ObjectCheck(objects=10, verified=10, rows=10),
    }
    fields.update(changes)
    return CutoverFile.model_validate(fields)


def test_a_clean_drill_breaks_no_promise() -> None:
    assert _drill().broken_promises() == []


def test_failures_outside_a_fault_window_name_the_endpoint_and_phase() -> None:
    drill = _drill()
    drill.phases[2].endpoints[0] = EndpointWindow(
        name="/uploads", requests=20, failures=3, failure_examples=["HTTP 503"]
    )
    assert drill.broken_promises() == ["cut-over: 3 failed /uploads in azure-reads (HTTP 503)"]
    drill.faults.append(
        FaultWindow(
            kind="azure down",
            phase="azure-reads",
            started_s=21,
            cleared_s=23,
            recovered_s=24,
            max_recovery_s=5,
        )
    )
    drill.excused["azure down"] = {"/uploads": 3}
    assert drill.broken_promises() == []


def test_a_fault_that_never_recovers_lost_objects_and_a_short_walk_are_named() -> None:
    late = FaultWindow(
        kind="azure down", phase="azure-reads", started_s=21, cleared_s=23, max_recovery_s=5
    )
    final = ObjectCheck(
        objects=10,
        verified=8,
        missing=["legacy/a.json"],
        corrupted=["legacy/b.json"],
        rows=10,
        rows_pointing_nowhere=["content_snapshot#4 (legacy/a.json)"],
    )
    drill = _drill(faults=[late], final=final)
    drill.phases.pop()
    problems = drill.broken_promises()
    assert "cut-over: no recovery within 5 s after azure down cleared" in problems
    assert "cut-over: 1 lost: legacy/a.json" in problems
    assert "cut-over: 1 corrupted: legacy/b.json" in problems
    assert "cut-over: 1 rows pointing nowhere: content_snapshot#4 (legacy/a.json)" in problems
    assert "cut-over: the drill did not reach azure-only" in problems
    assert (
        "cut-over: the final object and row check did not run"
        in _drill(final=None).broken_promises()
    )


def test_fallback_reads_missing_from_the_audit_trail_are_named() -> None:
    assert _drill(fallback_reads_counted=12, fallback_reads_audited=12).broken_promises() == []
    assert _drill(fallback_reads_counted=12, fallback_reads_audited=9).broken_promises() == [
        "cut-over: 12 fallback reads counted but 9 in the audit trail"
    ]


def test_the_backfill_ratio_needs_both_rates() -> None:
    assert _drill(backfill_objects_per_s=12.3).backfill_ratio is None
    both = _drill(backfill_objects_per_s=12.3, alone_objects_per_s=12.8)
    assert both.backfill_ratio == 0.961
