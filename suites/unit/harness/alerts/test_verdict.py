"""The outage drill's verdict (AlertsFile.broken_promises / judge) on golden timelines:
fired in time, fired late, never fired, fired on the clean load, not resolved, resolved
while the fault was on, an alert nobody asked for, a consequence that may fire."""

from __future__ import annotations

from harness.runfolder.alerts import AlertsFile, AlertSpan, BackendDrill, FaultPhase, RuleTiming

BREAKER = "CrownsafeStorageCircuitBreakerOpen"
RATE = "CrownsafeUploadFailureRateHigh"
API = "CrownsafeApi5xxRatioHigh"
BACKLOG = "CrownsafeImageJobBacklog"
RULES = [
    RuleTiming(alert=BREAKER, for_s=1.0),
    RuleTiming(alert=RATE, for_s=2.0, range_s=5.0),
    RuleTiming(alert=API, for_s=5.0, range_s=5.0),
    RuleTiming(alert=BACKLOG, for_s=10.0),
]
# allowances with 0.5 s scrapes and 2 s tolerance: breaker 1 + 1 + 2 = 4 s,
# failure rate 2 + 5 + 1 + 2 = 10 s
PHASES = [
    FaultPhase(fault="clean", started_s=0.0, cleared_s=6.0, ended_s=6.0),
    FaultPhase(
        fault="storage down",
        started_s=6.0,
        cleared_s=10.0,
        ended_s=20.0,
        expected=[BREAKER, RATE],
        tolerated=[API],
        resolve_within_s=10.0,
    ),
]


def span(alert: str, pending: float, firing: float | None, resolved: float | None) -> AlertSpan:
    return AlertSpan(
        alert=alert,
        labels={"backend": "s3", "severity": "critical"},
        pending_s=pending,
        firing_s=firing,
        resolved_s=resolved,
    )


IN_TIME = [span(BREAKER, 6.8, 7.8, 11.0), span(RATE, 7.0, 9.0, 16.0)]


def drill_file(*spans: AlertSpan, backend: str = "s3") -> AlertsFile:
    drill = BackendDrill(backend=backend, phases=PHASES, alerts=list(spans), rules=RULES)
    return AlertsFile(
        factor=60, scrape_interval_s=0.5, evaluation_interval_s=0.5, tolerance_s=2.0, drills=[drill]
    )


def test_alerts_fired_in_time_and_resolved_after_clearing_break_nothing() -> None:
    result = drill_file(*IN_TIME)
    assert result.broken_promises() == []
    judged = {(j.fault, j.alert): j for j in result.judge(result.drills[0])}
    breaker = judged[("storage down", BREAKER)]
    assert (breaker.role, breaker.fired_after_s, breaker.resolved_after_s) == ("expected", 1.8, 1.0)
    assert breaker.allowed_s == 4.0
    assert judged[("clean", BREAKER)].role == "quiet"


def test_a_late_alert_is_named_with_its_delay_and_allowance() -> None:
    late = span(BREAKER, 6.8, 10.5, 12.0)
    assert drill_file(late, IN_TIME[1]).broken_promises() == [
        f"alerts [s3]: {BREAKER} fired 4.5 s after fault storage down began (allowed 4.0 s)"
    ]


def test_the_onset_of_a_fault_adds_to_the_allowance() -> None:
    slow = [p.model_copy(update={"onset_s": 1.0}) if p.expected else p for p in PHASES]
    late = span(BREAKER, 6.8, 10.5, 12.0)
    result = drill_file(late, IN_TIME[1])
    result.drills[0].phases = slow
    assert result.broken_promises() == []


def test_an_alert_that_never_fired_is_named() -> None:
    pending_only = span(RATE, 7.0, None, 9.0)
    assert drill_file(IN_TIME[0], pending_only).broken_promises() == [
        f"alerts [s3]: {RATE} did not fire on fault storage down"
    ]


def test_an_alert_on_another_backend_does_not_count() -> None:
    azure = IN_TIME[1].model_copy(update={"labels": {"backend": "azure"}})
    assert drill_file(IN_TIME[0], azure).broken_promises() == [
        f"alerts [s3]: {RATE} did not fire on fault storage down"
    ]


def test_an_alert_firing_on_the_clean_load_is_named() -> None:
    clean = span(BREAKER, 1.0, 2.5, 4.0)
    assert drill_file(clean, *IN_TIME).broken_promises() == [
        f"alerts [s3]: {BREAKER} fired on the clean load (at 2.5 s), which does not call for it"
    ]


def test_a_pending_alert_on_the_clean_load_that_never_fired_is_recorded_not_failed() -> None:
    assert drill_file(span(RATE, 1.0, None, 1.5), *IN_TIME).broken_promises() == []


def test_an_alert_that_does_not_resolve_or_resolves_late_is_named() -> None:
    never = span(RATE, 7.0, 9.0, None)
    late = span(BREAKER, 6.8, 7.8, 25.0)
    assert drill_file(late, never).broken_promises() == [
        f"alerts [s3]: {BREAKER} resolved 15.0 s after fault storage down cleared (allowed 10.0 s)",
        f"alerts [s3]: {RATE} did not resolve after fault storage down cleared",
    ]


def test_an_alert_that_resolves_while_its_fault_is_on_is_named() -> None:
    flapping = [span(BREAKER, 6.8, 7.8, 8.5), span(BREAKER, 8.6, 9.7, 11.0)]
    assert drill_file(*flapping, IN_TIME[1]).broken_promises() == [
        f"alerts [s3]: {BREAKER} resolved while fault storage down was still on"
    ]


def test_a_consequence_may_fire_but_an_alert_nobody_asked_for_may_not() -> None:
    consequence = span(API, 8.0, 13.0, 18.0)
    stray = span(BACKLOG, 8.0, 14.0, 18.0)
    result = drill_file(*IN_TIME, consequence, stray)
    assert result.broken_promises() == [
        f"alerts [s3]: {BACKLOG} fired on fault storage down (at 8.0 s), which does not call for it"
    ]
    judged = {(j.fault, j.alert): j for j in result.judge(result.drills[0])}
    assert judged[("storage down", API)].role == "tolerated"
    assert judged[("storage down", API)].fired_after_s == 7.0


def test_a_drill_that_could_not_run_or_ran_nowhere_is_named() -> None:
    broken = drill_file()
    broken.drills[0] = BackendDrill(backend="azure", error="Prometheus did not see the app")
    assert broken.broken_promises() == [
        "alerts [azure]: the drill could not run: Prometheus did not see the app"
    ]
    broken.drills = []
    assert broken.broken_promises() == ["alerts: the outage drill ran on no backend"]


def test_the_file_round_trips_through_json() -> None:
    result = drill_file(*IN_TIME)
    assert AlertsFile.model_validate_json(result.model_dump_json()) == result
