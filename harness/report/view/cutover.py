"""The report's live cut-over section: the drill's phases on a time axis, its faults and
its final object and row check (from cutover.json; nothing decided here)."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from harness.report.labels import fmt
from harness.report.view.model import Cell, Figure, Table
from harness.report.view.svg import Series, VLine, time_chart
from harness.runfolder.cutover import CutoverFile

__all__ = ["CutoverSection", "cutover_section"]


@dataclass
class CutoverSection:
    summary: str
    figures: list[Figure]
    phases: Table
    faults: Table
    final: Table


def _markers(drill: CutoverFile) -> list[VLine]:
    marks = [VLine(p.started_s, p.phase) for p in drill.phases[1:]]
    marks += [VLine(f.started_s, f.kind, colour="#b00020") for f in drill.faults]
    return marks


def _figure(
    drill: CutoverFile, chart_id: str, title: str, unit: str, columns: dict[str, int]
) -> Figure:
    rows = [point for phase in drill.phases for point in phase.timeline]
    series = [
        Series(name, [(row[0], row[index]) for row in rows], dashed=name.startswith("failed"))
        for name, index in columns.items()
    ]
    svg = time_chart(
        chart_id,
        title,
        f"{title} over the drill, phase changes and faults marked",
        series,
        unit,
        "seconds since the load started",
        vlines=_markers(drill),
    )
    table = Table(
        f"Data behind: {title} (per phase)",
        ["phase", "from (s)", "to (s)", *(f"{name} (max {unit})" for name in columns)],
        [
            [
                phase.phase,
                fmt(phase.started_s),
                fmt(phase.ended_s),
                *(fmt(max((r[i] for r in phase.timeline), default=0.0)) for i in columns.values()),
            ]
            for phase in drill.phases
        ],
    )
    return Figure(Markup(svg), table)


def _phases(drill: CutoverFile) -> Table:
    rows: list[list[Cell | str]] = []
    for phase in drill.phases:
        excused = sum(
            count
            for fault in drill.faults
            if fault.phase == phase.phase
            for count in drill.excused.get(fault.kind, {}).values()
        )
        failed = phase.failures - excused
        p95 = max((e.p95_ms or 0.0 for e in phase.endpoints), default=0.0)
        rows.append(
            [
                phase.phase,
                fmt(phase.ended_s - phase.started_s),
                str(phase.requests),
                Cell(str(failed), "fail" if failed else "pass"),
                str(excused),
                fmt(p95),
                str(phase.fallback_reads),
                str(phase.objects_copied),
            ]
        )
    return Table(
        "Phases: requests, failures outside the injected faults, slowest endpoint p95",
        [
            "phase",
            "seconds",
            "requests",
            "failed",
            "during a fault",
            "p95 max (ms)",
            "fallback reads",
            "objects copied",
        ],
        rows,
        note="A failed request outside a fault's window makes the run not ready; those "
        "inside it are what users saw during that fault.",
    )


def _faults(drill: CutoverFile) -> Table:
    rows: list[list[Cell | str]] = []
    for fault in drill.faults:
        recovery = (
            None if fault.recovered_s is None else max(0.0, fault.recovered_s - fault.cleared_s)
        )
        late = recovery is None or recovery > fault.max_recovery_s
        rows.append(
            [
                fault.kind,
                fault.phase,
                fmt(fault.started_s),
                fmt(fault.cleared_s),
                Cell(
                    "never" if recovery is None else f"{fmt(recovery)} s",
                    "fail" if late else "pass",
                ),
                f"{fmt(fault.max_recovery_s)} s",
                str(sum(drill.excused.get(fault.kind, {}).values())),
            ]
        )
    return Table(
        "Injected faults and what users saw",
        [
            "fault",
            "phase",
            "at (s)",
            "cleared (s)",
            "recovered after",
            "allowed",
            "failed requests",
        ],
        rows,
    )


def _final(drill: CutoverFile) -> Table:
    final = drill.final
    if final is None:
        return Table(
            "Final check", ["check", "result"], [["final check", Cell("did not run", "fail")]]
        )

    def count(names: list[str]) -> Cell:
        shown = ", ".join(names[:5]) + (" ..." if len(names) > 5 else "")
        return Cell(str(len(names)), "fail" if names else "pass", shown)

    return Table(
        "Final check: every seeded object on Azure against its S3 original (sha256), every row",
        ["objects", "verified", "lost", "corrupted", "rows", "pointing nowhere", "still on S3"],
        [
            [
                str(final.objects),
                Cell(str(final.verified), "pass" if final.verified == final.objects else "fail"),
                count(final.missing),
                count(final.corrupted),
                str(final.rows),
                count(final.rows_pointing_nowhere),
                str(final.rows_still_on_s3),
            ]
        ],
    )


def cutover_section(drill: CutoverFile | None) -> CutoverSection | None:
    if drill is None:
        return None
    phases = " -> ".join(p.phase for p in drill.phases)
    rate = (
        f"; backfill {fmt(drill.backfill_objects_per_s)} objects/s"
        if drill.backfill_objects_per_s
        else ""
    )
    ratio = drill.backfill_ratio
    if ratio is not None:
        met = "met" if ratio >= drill.BACKFILL_GOAL else "not met"
        rate += (
            f" under load, {fmt(drill.alone_objects_per_s)} objects/s for migrate-objects alone "
            f"on the same objects: {ratio:.2f}x (goal >= {drill.BACKFILL_GOAL}x, {met})"
        )
    summary = (
        f"{drill.objects_seeded} legacy objects, {phases}, {fmt(drill.seconds)} s in all{rate}."
    )
    return CutoverSection(
        summary=summary,
        figures=[
            _figure(
                drill,
                "cut-rps",
                "Requests per second",
                "req/s",
                {"requests": 1, "failed": 2},
            ),
            _figure(drill, "cut-p95", "p95 latency", "ms", {"p95": 3}),
            _figure(drill, "cut-fallback", "Fallback reads per second", "reads/s", {"fallback": 4}),
        ],
        phases=_phases(drill),
        faults=_faults(drill),
        final=_final(drill),
    )
