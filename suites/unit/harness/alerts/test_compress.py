"""harness.alerts.compress: the rule file copied with every duration / one factor, and
nothing else changed (expressions, labels, annotations, thresholds); promtool accepts it."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.alerts.compress import (
    CompressionError,
    compress_expression,
    compress_rules,
    format_duration,
    parse_duration,
    rule_timings,
)
from harness.alerts.drill import RULE_FILE

DURATION = re.compile(r"\[[^\]]*\]|\boffset\s+\S+")


@pytest.mark.parametrize(
    ("text", "ms"),
    [("5m", 300_000), ("1h30m", 5_400_000), ("500ms", 500), ("2s", 2000), ("1d", 86_400_000)],
)
def test_durations_parse_and_format_back(text: str, ms: int) -> None:
    assert parse_duration(text) == ms
    assert parse_duration(format_duration(ms)) == ms


@pytest.mark.parametrize("text", ["", "5", "5 minutes", "m5", "-1s"])
def test_a_bad_duration_is_named(text: str) -> None:
    with pytest.raises(CompressionError, match="not a Prometheus duration"):
        parse_duration(text)


def test_ranges_subqueries_and_offsets_are_divided_and_nothing_else() -> None:
    expr = (
        'sum(rate(x_total{le="5", job=~"a[0-9]"}[5m])) / sum(rate(y[15m] offset 1h)) > 5'
        " and max_over_time(z[10m:1m]) > 0.05"
    )
    out = compress_expression(expr, 60)
    assert out == (
        'sum(rate(x_total{le="5", job=~"a[0-9]"}[5s])) / sum(rate(y[15s] offset 1m)) > 5'
        " and max_over_time(z[10s:1s]) > 0.05"
    )


def test_a_duration_that_does_not_divide_evenly_keeps_its_milliseconds() -> None:
    assert compress_expression("rate(x[1m])", 7) == "rate(x[8s571ms])"


def _alerts(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for g in document["groups"] for r in g["rules"]]


def test_the_shipped_rules_compress_with_structure_labels_and_thresholds_unchanged() -> None:
    original = yaml.safe_load(RULE_FILE.read_text())
    compressed = yaml.safe_load(compress_rules(RULE_FILE.read_text(), 60, evaluation_interval=0.5))
    assert len(_alerts(compressed)) == len(_alerts(original)) == 8
    for before, after in zip(_alerts(original), _alerts(compressed), strict=True):
        assert after["alert"] == before["alert"]
        assert after["labels"] == before["labels"]
        assert after["annotations"] == before["annotations"]
        # the expression without its durations is the same text: structure, labels and
        # thresholds untouched
        assert DURATION.sub("D", after["expr"]) == DURATION.sub("D", before["expr"])
        assert parse_duration(after["for"]) * 60 == parse_duration(before["for"])
    timings = {t.alert: t for t in rule_timings(compressed)}
    assert timings["CrownsafeUploadFailureRateHigh"].for_s == 2.0
    assert timings["CrownsafeUploadFailureRateHigh"].range_s == 5.0
    assert timings["CrownsafeStorageCircuitBreakerOpen"].for_s == 1.0
    assert timings["CrownsafeStorageCircuitBreakerOpen"].range_s == 1.0  # min_over_time [1m]
    assert timings["CrownsafeImageJobsFailing"].range_s == 15.0


def test_a_for_shorter_than_two_evaluations_is_refused_with_the_largest_factor() -> None:
    with pytest.raises(CompressionError, match=r"CrownsafeStorageCircuitBreakerOpen.*at most 60"):
        compress_rules(RULE_FILE.read_text(), 120, evaluation_interval=0.5)


@pytest.mark.parametrize("factor", [0.5, float("nan")])
def test_a_factor_below_one_is_refused(factor: float) -> None:
    with pytest.raises(CompressionError, match="factor"):
        compress_rules(RULE_FILE.read_text(), factor, evaluation_interval=0.5)


def test_a_file_without_groups_is_refused() -> None:
    with pytest.raises(CompressionError, match="groups"):
        compress_rules("rules: []\n", 60, evaluation_interval=0.5)


def test_promtool_accepts_the_compressed_rules(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    assert promtool, "promtool is not installed: run `make bootstrap` (Debian's prometheus)"
    path = tmp_path / "compressed.rules.yml"
    path.write_text(compress_rules(RULE_FILE.read_text(), 60, evaluation_interval=0.5))
    done = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "8 rules found" in done.stdout
