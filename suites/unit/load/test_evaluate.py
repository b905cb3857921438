"""load.evaluate: each metric against its threshold; an endpoint nobody called fails."""

from __future__ import annotations

from load.evaluate import EndpointStats, breach_lines, evaluate, evaluate_run, measure
from load.slo_file import AGGREGATED, Slo


def stats(name: str = "/uploads", method: str = "POST", **values: float) -> EndpointStats:
    fields: dict[str, float] = {"requests": 100, "failures": 0, "rps": 5.0}
    fields.update(values)
    return EndpointStats(
        method=method,
        name=name,
        requests=int(fields.pop("requests")),
        failures=int(fields.pop("failures")),
        **fields,
    )


def test_keys_match_the_slo_file_names() -> None:
    assert stats().key == "POST /uploads"
    assert stats(AGGREGATED, "").key == AGGREGATED


def test_each_metric_reads_its_own_value() -> None:
    s = stats(p95_ms=120, p99_ms=300, failures=3, rps=7.5)
    assert measure(s, "p95_ms") == 120
    assert measure(s, "p99_ms") == 300
    assert measure(s, "error_ratio") == 0.03
    assert measure(s, "min_rps") == 7.5
    assert measure(stats(requests=0), "p95_ms") is None
    assert measure(None, "min_rps") is None


def test_evaluate_passes_and_fails_on_the_boundary() -> None:
    observed = {"POST /uploads": stats(p95_ms=800, failures=2, rps=0.9)}
    results = evaluate(
        [
            Slo("POST /uploads", "p95_ms", 800),
            Slo("POST /uploads", "error_ratio", 0.01),
            Slo("POST /uploads", "min_rps", 1.0),
        ],
        observed,
        step=2,
    )
    assert [(r.metric, r.measured, r.passed, r.step) for r in results] == [
        ("p95_ms", 800, True, 2),
        ("error_ratio", 0.02, False, 2),
        ("min_rps", 0.9, False, 2),
    ]


def test_an_slo_whose_endpoint_saw_no_request_is_not_met() -> None:
    [result] = evaluate([Slo("GET /health", "p95_ms", 100)], {})
    assert (result.measured, result.passed) == (None, False)
    assert breach_lines([result]) == ["SLO breached: GET /health p95_ms <= 100: no requests"]


def test_breach_lines_name_the_measured_value_and_the_step() -> None:
    results = evaluate(
        [Slo("POST /uploads", "p95_ms", 800), Slo("POST /uploads", "p99_ms", 5000)],
        {"POST /uploads": stats(p95_ms=1234, p99_ms=2000)},
        step=1,
    )
    assert breach_lines(results) == [
        "SLO breached [step 1]: POST /uploads p95_ms <= 800: measured 1234"
    ]


RUN_SLOS = [
    Slo("POST /uploads", "p95_ms", 800),
    Slo("POST /scans", "p95_ms", 800),
    Slo(AGGREGATED, "error_ratio", 0.01),
]


def test_a_plain_run_lists_an_endpoint_nobody_called_as_not_measured_not_breached() -> None:
    observed = {"POST /uploads": stats(p95_ms=100), AGGREGATED: stats(AGGREGATED, "")}
    judged = evaluate_run(RUN_SLOS, observed)
    assert judged.not_measured == ["POST /scans"]
    assert [(r.endpoint, r.passed) for r in judged.results] == [
        ("POST /uploads", True),
        (AGGREGATED, True),
    ]
    assert breach_lines(judged.results) == []


def test_a_plain_run_in_which_no_endpoint_got_a_request_breaches_every_slo() -> None:
    for observed in ({}, {"POST /uploads": stats(requests=0), AGGREGATED: stats(requests=0)}):
        judged = evaluate_run(RUN_SLOS, observed)
        assert judged.not_measured == []
        assert [(r.endpoint, r.measured, r.passed) for r in judged.results] == [
            ("POST /uploads", None, False),
            ("POST /scans", None, False),
            (AGGREGATED, None, False),
        ]
