"""`alerts.json`: the outage drill (harness.alerts): which alerts a real Prometheus raised
during injected storage faults, per backend, and the drill's verdict.

Per backend: the phases (a clean load first, then each fault: injected, cleared, and the
moment every alert was quiet again), each alert's pending / firing / resolved times as
Prometheus' own API showed them, and the (compressed) timings of each rule. All times are
seconds since that backend's drill began. `broken_promises` is the one rule for what makes
the drill not ready, read by the report and the `alerts` command alike:

- a fault's expected alert fires (with its `backend` label) within its allowance after the
  fault began: the fault's onset (a slow call is counted only when it ends), the longest
  range the rule's expression reads (a rate over a window sees a fault fully only a window
  later), its `for:`, two scrape intervals and the stated tolerance (rule times compressed
  like the rules);
- that alert resolves after the fault cleared (not before), within the phase's
  `resolve_within_s`;
- no alert fires on the clean phase, and none fires on a fault that neither calls for it
  nor lists it as a consequence (`tolerated`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pydantic import Field

from harness.runfolder._base import Record, RunFile

__all__ = ["AlertSpan", "AlertsFile", "BackendDrill", "FaultPhase", "Judgement", "RuleTiming"]


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
    onset_s: float = Field(
        0.0,
        description="how long the fault takes to reach a metric at all (a slow call is "
        "counted when it ends: the latency fault's delay)",
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
    seconds: float = Field(0.0, description="the whole drill on this backend, start to stop")
    setup_s: float = Field(
        0.0, description="database, app, worker and Prometheus up, targets scraped"
    )
    phases_s: float = Field(0.0, description="the clean load and every fault, to the last quiet")
    uploads: int = 0
    upload_failures: int = 0
    phases: list[FaultPhase] = Field(default_factory=list)
    alerts: list[AlertSpan] = Field(default_factory=list)
    rules: list[RuleTiming] = Field(default_factory=list)
    polls: int = 0
    poll_errors: list[str] = Field(default_factory=list)
    error: str = Field("", description="why the drill could not run on this backend")

    def allowance(self, alert: str, scrape_s: float, tolerance_s: float, onset_s: float) -> float:
        """Seconds after a fault began within which `alert` must be firing: the fault's
        onset, the longest range the rule reads, its for:, two scrapes, the tolerance."""
        rule = next((r for r in self.rules if r.alert == alert), None)
        wait = (rule.for_s + rule.range_s) if rule is not None else 0.0
        return onset_s + wait + 2 * scrape_s + tolerance_s

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


@dataclass(frozen=True)
class Judgement:
    """One rule on one phase of one backend: what the phase asks of it (`role`: expected,
    tolerated or quiet), what Prometheus showed (seconds after the fault began and after
    it cleared) and what is wrong with that (empty: nothing)."""

    backend: str
    fault: str
    alert: str
    role: str
    fired_after_s: float | None = None
    resolved_after_s: float | None = None
    allowed_s: float = 0.0
    resolve_allowed_s: float = 0.0
    problems: tuple[str, ...] = ()


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
            where = f"[{drill.backend}]"
            if drill.error:
                problems.append(f"alerts {where}: the drill could not run: {drill.error}")
                continue
            if not any(p.fault == "clean" for p in drill.phases):
                problems.append(f"alerts {where}: no clean phase ran")
            for judgement in self.judge(drill):
                problems += judgement.problems
        return problems

    def judge(self, drill: BackendDrill) -> list[Judgement]:
        """Every rule of `drill` on every phase: each expected alert, and each alert that
        fired (tolerated or not)."""
        judgements: list[Judgement] = []
        names = [r.alert for r in drill.rules] or sorted({s.alert for s in drill.alerts})
        for phase in drill.phases:
            for alert in names:
                if alert in phase.expected:
                    judgements.append(self._expected(drill, phase, alert))
                else:
                    judgements.append(self._unexpected(drill, phase, alert))
        return judgements

    def _unexpected(self, drill: BackendDrill, phase: FaultPhase, alert: str) -> Judgement:
        role = "tolerated" if alert in phase.tolerated else "quiet"
        spans = drill.spans(alert, phase)
        first = min((s.firing_s for s in spans if s.firing_s is not None), default=None)
        fired = None if first is None else round(first - phase.started_s, 3)
        problems: tuple[str, ...] = ()
        if fired is not None and role == "quiet":
            what = "the clean load" if phase.fault == "clean" else f"fault {phase.fault}"
            problems = (
                f"alerts [{drill.backend}]: {alert} fired on {what} (at {fired:.1f} s), "
                "which does not call for it",
            )
        return Judgement(drill.backend, phase.fault, alert, role, fired, problems=problems)

    def _expected(self, drill: BackendDrill, phase: FaultPhase, alert: str) -> Judgement:
        where = f"[{drill.backend}]"
        spans = drill.spans(alert, phase)
        allowed = drill.allowance(alert, self.scrape_interval_s, self.tolerance_s, phase.onset_s)
        base = Judgement(
            drill.backend,
            phase.fault,
            alert,
            "expected",
            allowed_s=round(allowed, 3),
            resolve_allowed_s=phase.resolve_within_s,
        )
        if not spans:
            problem = f"alerts {where}: {alert} did not fire on fault {phase.fault}"
            return replace(base, problems=(problem,))
        first = min(spans, key=lambda s: s.firing_s or 0.0)
        last = max(spans, key=lambda s: s.firing_s or 0.0)
        took = round((first.firing_s or 0.0) - phase.started_s, 3)
        resolved = None if last.resolved_s is None else round(last.resolved_s - phase.cleared_s, 3)
        problems: list[str] = []
        if took > allowed:
            problems.append(
                f"alerts {where}: {alert} fired {took:.1f} s after fault {phase.fault} began "
                f"(allowed {allowed:.1f} s)"
            )
        if any(s.resolved_s is not None and s.resolved_s < phase.cleared_s for s in spans):
            problems.append(
                f"alerts {where}: {alert} resolved while fault {phase.fault} was still on"
            )
        if resolved is None:
            problems.append(
                f"alerts {where}: {alert} did not resolve after fault {phase.fault} cleared"
            )
        elif resolved > phase.resolve_within_s:
            problems.append(
                f"alerts {where}: {alert} resolved {resolved:.1f} s after fault {phase.fault} "
                f"cleared (allowed {phase.resolve_within_s:.1f} s)"
            )
        return replace(
            base, fired_after_s=took, resolved_after_s=resolved, problems=tuple(problems)
        )
