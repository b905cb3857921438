"""harness.alerts.watch: Prometheus' /api/v1/alerts answers folded into pending / firing /
resolved spans (pure: answers and poll times are given)."""

from __future__ import annotations

from typing import Any

from harness.alerts.watch import Tracker, parse_alerts, track

ORIGIN = 1_800_000_000.0


def answer(*alerts: tuple[str, str, float], backend: str = "azure") -> dict[str, Any]:
    return {
        "status": "success",
        "data": {
            "alerts": [
                {
                    "labels": {"alertname": name, "backend": backend, "severity": "critical"},
                    "state": state,
                    "activeAt": _stamp(ORIGIN + active),
                    "value": "1e+00",
                }
                for name, state, active in alerts
            ]
        },
    }


def _stamp(epoch: float) -> str:
    from datetime import UTC, datetime

    text = datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return text + "123Z"  # Prometheus writes nanoseconds


def test_the_answer_is_parsed_with_prometheus_active_at() -> None:
    (alert,) = parse_alerts(answer(("Breaker", "pending", 6.25)))
    assert alert.alert == "Breaker"
    assert dict(alert.labels) == {"backend": "azure", "severity": "critical"}
    assert abs(alert.active_at - (ORIGIN + 6.25)) < 1e-3


def test_pending_then_firing_then_gone_is_one_span() -> None:
    tracker = Tracker(ORIGIN)
    track(tracker, parse_alerts(answer(("Breaker", "pending", 6.2))), ORIGIN + 6.5)
    track(tracker, parse_alerts(answer(("Breaker", "pending", 6.2))), ORIGIN + 7.0)
    track(tracker, parse_alerts(answer(("Breaker", "firing", 6.2))), ORIGIN + 7.5)
    track(tracker, parse_alerts(answer()), ORIGIN + 11.0)
    (span,) = tracker.spans
    assert (span.pending_s, span.firing_s, span.resolved_s) == (6.2, 7.5, 11.0)
    assert tracker.open == {}


def test_an_alert_seen_again_after_resolving_opens_a_new_span() -> None:
    tracker = Tracker(ORIGIN)
    track(tracker, parse_alerts(answer(("Rate", "firing", 1.0))), ORIGIN + 2.0)
    track(tracker, parse_alerts(answer()), ORIGIN + 3.0)
    track(tracker, parse_alerts(answer(("Rate", "pending", 4.0))), ORIGIN + 4.5)
    assert [(s.pending_s, s.firing_s, s.resolved_s) for s in tracker.spans] == [
        (1.0, 2.0, 3.0),
        (4.0, None, None),
    ]


def test_the_same_alert_on_two_backends_is_two_spans() -> None:
    tracker = Tracker(ORIGIN)
    both = answer(("Rate", "firing", 1.0))
    both["data"]["alerts"] += answer(("Rate", "pending", 1.5), backend="s3")["data"]["alerts"]
    track(tracker, parse_alerts(both), ORIGIN + 2.0)
    assert sorted((s.labels["backend"], s.firing_s) for s in tracker.spans) == [
        ("azure", 2.0),
        ("s3", None),
    ]


def test_a_pending_time_after_the_poll_is_clamped_to_the_poll() -> None:
    tracker = Tracker(ORIGIN)
    track(tracker, parse_alerts(answer(("Rate", "pending", 5.0))), ORIGIN + 4.9)
    assert tracker.spans[0].pending_s == 4.9
