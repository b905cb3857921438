"""`cutover.json`: the live S3 -> Azure cut-over drill (harness.cutover), and its verdict.

Per phase: the window on the wall clock, requests and failures per endpoint, p95,
fallback reads and objects copied. At the end: every seeded object checked on Azure
against its S3 original, every row's columns, and the fault windows the drill injected
(failures inside them are what users saw during that fault, shown but judged by
`max_recovery_s`). `broken_promises` is the one rule for what makes a drill not ready,
read by the report and the drill command alike.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from harness.runfolder._base import Record, RunFile

__all__ = ["CutoverFile", "EndpointWindow", "FaultWindow", "ObjectCheck", "PhaseWindow"]


class EndpointWindow(Record):
    name: str
    requests: int
    failures: int
    p95_ms: float | None = None
    failure_examples: list[str] = Field(default_factory=list)


class PhaseWindow(Record):
    phase: str
    started_s: float = Field(description="seconds since the drill's load started")
    ended_s: float
    endpoints: list[EndpointWindow] = Field(default_factory=list)
    fallback_reads: int = 0
    objects_copied: int = 0
    timeline: list[list[float]] = Field(
        default_factory=list,
        description="per second: [t_s, requests, failures, p95_ms, fallback_reads]",
    )

    @property
    def requests(self) -> int:
        return sum(e.requests for e in self.endpoints)

    @property
    def failures(self) -> int:
        return sum(e.failures for e in self.endpoints)


class FaultWindow(Record):
    kind: str = Field(description="what was injected, e.g. 'azure down' or 'copier SIGKILL'")
    phase: str
    started_s: float
    cleared_s: float
    recovered_s: float | None = Field(
        None,
        description="the last failure after clearing, when requests then succeeded "
        "(None: failures went on to the end)",
    )
    failures: int = 0
    max_recovery_s: float = Field(
        description="how long after clearing failures may go on (the breaker's recovery)"
    )


class ObjectCheck(Record):
    objects: int
    verified: int
    missing: list[str] = Field(default_factory=list)
    corrupted: list[str] = Field(default_factory=list)
    rows: int = 0
    rows_pointing_nowhere: list[str] = Field(default_factory=list)
    rows_still_on_s3: int = 0


class CutoverFile(RunFile):
    FILE = "cutover.json"

    objects_seeded: int
    phases: list[PhaseWindow] = Field(default_factory=list)
    faults: list[FaultWindow] = Field(default_factory=list)
    excused: dict[str, dict[str, int]] = Field(
        default_factory=dict,
        description="per fault kind: failures per endpoint that fell inside its window",
    )
    final: ObjectCheck | None = None
    fallback_quiet_s: float = Field(
        0.0, description="seconds without a fallback read before the fallback was turned off"
    )
    backfill_objects_per_s: float | None = Field(
        None, description="objects / seconds of the drill's copier, under load, killed once"
    )
    alone_objects_per_s: float | None = Field(
        None,
        description="the same objects copied by migrate-objects alone after the drill (no "
        "load, an empty container), in the same run",
    )
    fallback_reads_counted: int | None = Field(
        None, description="the app's crownsafe_cutover_fallback_reads_total at the end"
    )
    fallback_reads_audited: int | None = Field(
        None, description="blob_audit_log rows of operation fallback_read at the end"
    )
    seconds: float = 0.0
    sabotage: str = Field("", description="a fault in the mode itself, set by a test only")

    BACKFILL_GOAL: ClassVar[float] = 0.9
    """The drill's backfill rate against migrate-objects alone (issue goal, shown)."""

    @property
    def backfill_ratio(self) -> float | None:
        """The drill's backfill rate / the copier's rate alone (None unless both ran)."""
        if not self.backfill_objects_per_s or not self.alone_objects_per_s:
            return None
        return round(self.backfill_objects_per_s / self.alone_objects_per_s, 3)

    def broken_promises(self) -> list[str]:
        """Zero failed requests outside the injected faults' windows, faults recovered in
        time, zero lost or corrupted objects, zero rows pointing nowhere, and no fallback
        read in the quiet window before the fallback was turned off."""
        problems: list[str] = []
        for phase in self.phases:
            for endpoint in phase.endpoints:
                failed = endpoint.failures - self._excused(phase.phase, endpoint.name)
                if failed > 0:
                    example = (
                        f" ({endpoint.failure_examples[0]})" if endpoint.failure_examples else ""
                    )
                    problems.append(
                        f"cut-over: {failed} failed {endpoint.name} in {phase.phase}{example}"
                    )
        for fault in self.faults:
            late = fault.recovered_s is None or (
                fault.recovered_s - fault.cleared_s > fault.max_recovery_s
            )
            if late:
                problems.append(
                    f"cut-over: no recovery within {fault.max_recovery_s:.0f} s after "
                    f"{fault.kind} cleared"
                )
        if self.final is None:
            problems.append("cut-over: the final object and row check did not run")
        else:
            final = self.final
            for label, names in (
                ("lost", final.missing),
                ("corrupted", final.corrupted),
                ("rows pointing nowhere", final.rows_pointing_nowhere),
            ):
                if names:
                    problems.append(
                        f"cut-over: {len(names)} {label}: {', '.join(names[:3])}"
                        + (" ..." if len(names) > 3 else "")
                    )
        if not self.phases or self.phases[-1].phase != "azure-only":
            problems.append("cut-over: the drill did not reach azure-only")
        counted, audited = self.fallback_reads_counted, self.fallback_reads_audited
        if counted is not None and audited is not None and counted != audited:
            problems.append(
                f"cut-over: {counted} fallback reads counted but {audited} in the audit trail"
            )
        return problems

    def _excused(self, phase: str, endpoint: str) -> int:
        """Failures inside a fault window are recorded per endpoint under a key of the
        fault's own; they do not count as failed requests of the phase."""
        return sum(
            count
            for fault in self.faults
            if fault.phase == phase
            for name, count in self.excused.get(fault.kind, {}).items()
            if name == endpoint
        )
