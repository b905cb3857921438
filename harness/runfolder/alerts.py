"""`alerts.json`: the outage drill (harness.alerts): which alerts a real Prometheus raised
during injected storage faults, per backend, and the drill's verdict.

Per backend: the phases (a clean load first, then each fault: injected, cleared, and the
moment every alert was quiet again), each alert's pending / firing / resolved times as
Prometheus' own API showed them, and the (compressed) timings of each rule. All times are
seconds since that backend's drill began. `broken_promises` is the one rule for what makes
the drill not ready, read by the report and the `alerts` command alike:

- a fault's expected alert fires (with its `backend` label) within its allowance after the
  fault began: the rule's `for:` plus the longest range its expression reads (a rate over
  a window sees a fault fully only a window later) plus two scrape intervals plus the
  stated tolerance, all compressed like the rules;
- that alert resolves after the fault cleared (not before), within the phase's
  `resolve_within_s`;
- no alert fires on the clean phase, and none fires on a fault that neither calls for it
  nor lists it as a consequence (`tolerated`).
"""

from __future__ import annotations

from pydantic import Field

from harness.runfolder._base import Record, RunFile

__all__ = ["AlertSpan", "AlertsFile", "BackendDrill", "FaultPhase", "RuleTiming"]


class RuleTiming(Record):
    alert: str
    for_s: float = Field(description="the rule's for:, compressed (seconds)")
    range_s: float = Field(0.0, description="the longest range its expression reads, compressed")


class FaultPhase(Record):
    fault: str = Field(description="'clean', 'storage down', 'every request 503', 'latency 6 s'")
    started_s: float
    cleared_s: float = Field(description="when the fault was removed (clean: its end)")
    ended_s: float = Field(description="when every alert was quiet again (or the wait gave up)")
    expected: list[str] = Field(default_factory=list, description="alerts that must fire")
    tolerated: list[str] = Field(
        default_factory=list,
        description="alerts that may fire as a consequence of the fault (not required)",
    )
    resolve_within_s: float = Field(
        0.0, description="how long after clearing the expected alerts may take to resolve"
    )


class AlertSpan(Record):
    alert: str
    labels: dict[str, str] = Field(default_factory=dict)
    pending_s: float = Field(description="Prometheus' activeAt")
    firing_s: float | None = Field(None, description="first poll that saw it firing")
    resolved_s: float | None = Field(
        None, description="first poll that no longer saw it (None: active at the end)"
    )


class BackendDrill(Record):
    backend: str
    seconds: float = 0.0
    uploads: int = 0
    upload_failures: int = 0
    phases: list[FaultPhase] = Field(default_factory=list)
    alerts: list[AlertSpan] = Field(default_factory=list)
    rules: list[RuleTiming] = Field(default_factory=list)
    polls: int = 0
    poll_errors: list[str] = Field(default_factory=list)
    error: str = Field("", description="why the drill could not run on this backend")

    def allowance(self, alert: str, scrape_s: float, tolerance_s: float) -> float:
        """Seconds after a fault began within which `alert` must be firing."""
        rule = next((r for r in self.rules if r.alert == alert), None)
        wait = (rule.for_s + rule.range_s) if rule is not None else 0.0
        return wait + 2 * scrape_s + tolerance_s

    def phase_at(self, t: float) -> FaultPhase | None:
        """The phase whose window [started_s, ended_s] holds `t` (None: between phases)."""
        return next((p for p in self.phases if p.started_s <= t <= p.ended_s), None)

    def spans(self, alert: str, phase: FaultPhase) -> list[AlertSpan]:
        """`alert`'s spans on this backend that fired inside `phase`."""
        return [
            s
            for s in self.alerts
            if s.alert == alert
            and s.labels.get("backend", self.backend) == self.backend
            and s.firing_s is not None
            and phase.started_s <= s.firing_s <= phase.ended_s
        ]


class AlertsFile(RunFile):
    FILE = "alerts.json"

    factor: float = Field(description="every duration of the rules was divided by this")
    scrape_interval_s: float
    evaluation_interval_s: float
    tolerance_s: float = Field(description="added to each allowance for evaluation and polling")
    rule_file: str = ""
    drills: list[BackendDrill] = Field(default_factory=list)
    seconds: float = 0.0

    def broken_promises(self) -> list[str]:
        """Each problem named: rule, fault, backend (rules in the module docstring)."""
        problems: list[str] = []
        if not self.drills:
            problems.append("alerts: the outage drill ran on no backend")
        for drill in self.drills:
            problems += self._drill_problems(drill)
        return problems

    def _drill_problems(self, drill: BackendDrill) -> list[str]:
        where = f"[{drill.backend}]"
        if drill.error:
            return [f"alerts {where}: the drill could not run: {drill.error}"]
        problems: list[str] = []
        for phase in drill.phases:
            for span in drill.alerts:
                if span.firing_s is None or not phase.started_s <= span.firing_s <= phase.ended_s:
                    continue
                if span.alert not in phase.expected and span.alert not in phase.tolerated:
                    what = "the clean load" if phase.fault == "clean" else f"fault {phase.fault}"
                    problems.append(
                        f"alerts {where}: {span.alert} fired on {what} "
                        f"(at {span.firing_s - phase.started_s:.1f} s), which does not call for it"
                    )
            for alert in phase.expected:
                problems += self._expected(drill, phase, alert, where)
        if not any(p.fault == "clean" for p in drill.phases):
            problems.append(f"alerts {where}: no clean phase ran")
        return problems

    def _expected(
        self, drill: BackendDrill, phase: FaultPhase, alert: str, where: str
    ) -> list[str]:
        spans = drill.spans(alert, phase)
        allowed = drill.allowance(alert, self.scrape_interval_s, self.tolerance_s)
        if not spans:
            return [f"alerts {where}: {alert} did not fire on fault {phase.fault}"]
        first = min(spans, key=lambda s: s.firing_s or 0.0)
        took = (first.firing_s or 0.0) - phase.started_s
        problems: list[str] = []
        if took > allowed:
            problems.append(
                f"alerts {where}: {alert} fired {took:.1f} s after fault {phase.fault} began "
                f"(allowed {allowed:.1f} s)"
            )
        last = max(spans, key=lambda s: s.firing_s or 0.0)
        if any(s.resolved_s is not None and s.resolved_s < phase.cleared_s for s in spans):
            problems.append(
                f"alerts {where}: {alert} resolved while fault {phase.fault} was still on"
            )
        if last.resolved_s is None:
            problems.append(
                f"alerts {where}: {alert} did not resolve after fault {phase.fault} cleared"
            )
        elif last.resolved_s - phase.cleared_s > phase.resolve_within_s:
            problems.append(
                f"alerts {where}: {alert} resolved {last.resolved_s - phase.cleared_s:.1f} s "
                f"after fault {phase.fault} cleared (allowed {phase.resolve_within_s:.1f} s)"
            )
        return problems
