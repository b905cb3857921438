"""load.slo_file: the shipped SLO file parses; every bad key is named with a fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from load.slo_file import AGGREGATED, Slo, SloFileError, load_slo_file, parse_slos

SHIPPED = Path(__file__).resolve().parents[3] / "load" / "slos.toml"


def test_the_shipped_slo_file_parses_and_gates_the_aggregate_and_uploads() -> None:
    slos = load_slo_file(SHIPPED)
    assert AGGREGATED in slos.endpoints
    assert {s.metric for s in slos.endpoints["POST /uploads"]} >= {"p95_ms", "error_ratio"}
    assert slos.defaults, "endpoints not listed must still be gated by the defaults"


def test_names_read_like_the_contract_says() -> None:
    assert Slo("POST /uploads", "p95_ms", 800).name == "POST /uploads p95_ms <= 800"
    assert Slo("GET /health", "min_rps", 0.5).name == "GET /health min_rps >= 0.5"
    assert Slo(AGGREGATED, "error_ratio", 0.01).name == "Aggregated error_ratio <= 0.01"


def test_bounds_hold_in_the_right_direction() -> None:
    assert Slo("GET /x", "p95_ms", 100).holds(100) and not Slo("GET /x", "p95_ms", 100).holds(101)
    assert Slo("GET /x", "min_rps", 2).holds(2) and not Slo("GET /x", "min_rps", 2).holds(1.9)


def test_defaults_apply_to_observed_unlisted_endpoints_only() -> None:
    slos = parse_slos(
        {
            "defaults": {"p95_ms": 1000, "error_ratio": 0.0},
            "endpoints": {"POST /uploads": {"p95_ms": 800}, AGGREGATED: {"min_rps": 1}},
        }
    )
    names = [s.name for s in slos.for_endpoints(["GET /health", AGGREGATED, "POST /uploads"])]
    assert names == [
        "POST /uploads p95_ms <= 800",
        "Aggregated min_rps >= 1",
        "GET /health p95_ms <= 1000",
        "GET /health error_ratio <= 0",
    ]
    # a listed endpoint keeps its SLOs even when nobody called it
    assert [s.endpoint for s in slos.for_endpoints([])] == ["POST /uploads", AGGREGATED]


@pytest.mark.parametrize(
    ("data", "key", "words"),
    [
        (
            {"endpoints": {"POST /uploads": {"p95_ms": "fast"}}},
            'endpoints."POST /uploads".p95_ms',
            "must be a number",
        ),
        (
            {"endpoints": {"POST /uploads": {"p95_ms": True}}},
            'endpoints."POST /uploads".p95_ms',
            "must be a number",
        ),
        (
            {"endpoints": {"POST /uploads": {"p95_ms": 0}}},
            'endpoints."POST /uploads".p95_ms',
            "greater than 0",
        ),
        (
            {"endpoints": {"GET /x": {"error_ratio": 1.5}}},
            'endpoints."GET /x".error_ratio',
            "less than or equal to 1",
        ),
        ({"endpoints": {"GET /x": {"p90_ms": 5}}}, 'endpoints."GET /x".p90_ms', "unknown metric"),
        ({"defaults": {"p95": 5}}, "defaults.p95", "unknown metric"),
        ({"endpoint": {}}, "endpoint", "unknown section"),
        ({"endpoints": {"/uploads": {"p95_ms": 5}}}, 'endpoints."/uploads"', "METHOD name"),
        ({"endpoints": {"GET /x": {}}}, 'endpoints."GET /x"', "sets no threshold"),
    ],
)
def test_a_bad_key_is_named_with_what_to_do(data: dict[str, object], key: str, words: str) -> None:
    with pytest.raises(SloFileError) as caught:
        parse_slos(data, "slos.toml")
    assert caught.value.key == key
    assert words in caught.value.problem
    assert str(caught.value).startswith(f"slos.toml: {key}: ")


def test_unreadable_and_malformed_files_are_typed_errors(tmp_path: Path) -> None:
    with pytest.raises(SloFileError, match="cannot be read"):
        load_slo_file(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[endpoints\n", "utf-8")
    with pytest.raises(SloFileError, match="not valid TOML"):
        load_slo_file(broken)
