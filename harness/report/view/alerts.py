"""The report's alerts section: per backend, the outage drill's timeline (faults as bands,
each alert's pending and firing spans as bars) and the table rule x fault, expected
against seen (from alerts.json; the judgements are the model's own, nothing decided here).
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from harness.report.labels import fmt
from harness.report.view.model import Cell, Figure, Table
from harness.report.view.svg import Band, Span, span_chart
from harness.runfolder.alerts import AlertsFile, BackendDrill, Judgement

__all__ = ["AlertsBackend", "AlertsSection", "alerts_section"]

_ROLE = {"expected": "must fire", "tolerated": "may fire", "quiet": "must stay quiet"}


@dataclass
class AlertsBackend:
    backend: str
    summary: str
    figure: Figure | None
    table: Table


@dataclass
class AlertsSection:
    summary: str
    backends: list[AlertsBackend]


def _rows(drill: BackendDrill) -> list[str]:
    """Rules expected somewhere or seen at all, in the rule file's order."""
    wanted = {a for p in drill.phases for a in p.expected} | {s.alert for s in drill.alerts}
    names = [r.alert for r in drill.rules if r.alert in wanted]
    return names + sorted(wanted - set(names))


def _figure(drill: BackendDrill, chart_id: str) -> Figure:
    end = max([p.ended_s for p in drill.phases] + [0.0])
    spans: list[Span] = []
    table_rows: list[list[Cell | str]] = []
    for s in drill.alerts:
        fired = s.firing_s if s.firing_s is not None else s.resolved_s
        stop = s.resolved_s if s.resolved_s is not None else end
        labels = ", ".join(f"{k}={v}" for k, v in s.labels.items() if k != "severity")
        pending_end = fired if fired is not None else stop
        spans.append(
            Span(
                s.alert,
                s.pending_s,
                pending_end,
                "pending",
                f"{s.alert} pending {fmt(s.pending_s)} s",
            )
        )
        if s.firing_s is not None:
            spans.append(
                Span(
                    s.alert,
                    s.firing_s,
                    stop,
                    "firing",
                    f"{s.alert} firing {fmt(s.firing_s)} s to {fmt(stop)} s ({labels})",
                )
            )
        table_rows.append(
            [
                s.alert,
                labels,
                fmt(s.pending_s),
                "never" if s.firing_s is None else fmt(s.firing_s),
                "still active" if s.resolved_s is None else fmt(s.resolved_s),
            ]
        )
    bands = [Band(p.started_s, p.cleared_s, p.fault) for p in drill.phases if p.fault != "clean"]
    svg = span_chart(
        chart_id,
        f"Alerts over the drill [{drill.backend}]",
        f"Faults injected into {drill.backend} storage (shaded) and each alert's pending and "
        "firing spans, as Prometheus' API showed them",
        _rows(drill),
        spans,
        bands,
        "seconds since the clean load began",
    )
    table = Table(
        f"Data behind: alerts over the drill [{drill.backend}] (seconds)",
        ["alert", "labels", "pending", "firing", "resolved"],
        table_rows,
    )
    return Figure(Markup(svg), table)


def _s(seconds: float) -> str:
    """Seconds to a tenth: the drill's polls are a quarter second apart."""
    return f"{seconds:.1f}"


def _cell(j: Judgement) -> Cell:
    if j.role == "expected":
        if j.fired_after_s is None:
            text = "never fired"
        else:
            resolved = (
                "never resolved"
                if j.resolved_after_s is None
                else f"resolved {_s(j.resolved_after_s)} s after clearing "
                f"(<= {_s(j.resolve_allowed_s)})"
            )
            text = f"fired after {_s(j.fired_after_s)} s (<= {_s(j.allowed_s)}); {resolved}"
    else:
        text = "quiet" if j.fired_after_s is None else f"fired after {_s(j.fired_after_s)} s"
    cls = "fail" if j.problems else ("pass" if j.role == "expected" else "")
    return Cell(f"{_ROLE[j.role]}: {text}", cls, "; ".join(j.problems))


def _table(result: AlertsFile, drill: BackendDrill) -> Table:
    judgements = result.judge(drill)
    faults = [p.fault for p in drill.phases]
    rows: list[list[Cell | str]] = []
    for alert in _rows(drill):
        by_fault = {j.fault: j for j in judgements if j.alert == alert}
        rows.append([alert, *(_cell(by_fault[f]) if f in by_fault else "" for f in faults)])
    timings = {r.alert: r for r in drill.rules}
    note = "; ".join(
        f"{a}: for {timings[a].for_s:g} s, range {timings[a].range_s:g} s"
        for a in _rows(drill)
        if a in timings
    )
    return Table(
        f"Rule x fault, expected against seen [{drill.backend}]",
        ["alert", *faults],
        rows,
        note="Times after the fault began (fired) and after it cleared (resolved), with the "
        f"allowance after <=. Compressed rule timings: {note}.",
    )


def alerts_section(result: AlertsFile | None) -> AlertsSection | None:
    if result is None:
        return None
    summary = (
        f"Rules of {result.rule_file or 'deploy/prometheus/'} with every duration divided by "
        f"{result.factor:g}; Prometheus scraped every {result.scrape_interval_s:g} s and "
        f"evaluated every {result.evaluation_interval_s:g} s; tolerance "
        f"{result.tolerance_s:g} s; {_s(result.seconds)} s in all."
    )
    backends = []
    for drill in result.drills:
        if drill.error:
            backends.append(
                AlertsBackend(
                    drill.backend,
                    f"The drill could not run: {drill.error}",
                    None,
                    Table("Rule x fault", ["alert"], []),
                )
            )
            continue
        backends.append(
            AlertsBackend(
                drill.backend,
                f"{drill.uploads} uploads ({drill.upload_failures} failed), "
                f"{drill.polls} polls of Prometheus; {fmt(drill.seconds)} s in all "
                f"({fmt(drill.setup_s)} s to start the stack and Prometheus, "
                f"{fmt(drill.phases_s)} s of phases).",
                _figure(drill, f"alerts-{drill.backend}"),
                _table(result, drill),
            )
        )
    return AlertsSection(summary, backends)
