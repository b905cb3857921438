"""promtool, Prometheus' own checker, on what Crown Safe ships to Prometheus: a real
scrape of the metrics registries after storage calls (`promtool check metrics`), and the
alert rules of deploy/prometheus/ (`promtool check rules`, `promtool test rules`: `make
test` runs them too; here their result also lands in the JUnit file, which Debian 12's
promtool 2.42 cannot write itself). The rules' own shape (severity, `for:`, a summary
naming the backend, a firing and a quiet case each) is checked on the YAML.

promtool comes with Debian's `prometheus` package, which `make bootstrap` installs; a
machine without it fails these tests (an unchecked scrape proves nothing), never skips.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from crownsafe.api.metrics import ApiMetrics
from crownsafe.errors import StorageUnavailableError
from crownsafe.storage.metrics import StorageMetrics
from crownsafe.storage.resilient import ResilientStorageClient

from ..crownsafe.storage.test_resilient import FakeStorage


def promtool() -> str:
    found = shutil.which("promtool")
    assert found, (
        "promtool is not installed: run `make bootstrap` (as root it apt-gets Debian's "
        "`prometheus` package, which brings promtool; otherwise it prints the command)"
    )
    return found


def scrape_after_storage_calls() -> bytes:
    """What /metrics serves (single process) after uploads, downloads and failures."""
    storage = StorageMetrics(CollectorRegistry())
    api = ApiMetrics(storage=storage)
    fake = FakeStorage()
    client = ResilientStorageClient(fake, max_retries=1, sleep=lambda _: None, metrics=storage)
    client.upload_file("a", b"abc")
    client.download_blob("a")
    fake.fail["download_blob"] = [StorageUnavailableError("down", status=503)] * 2
    with pytest.raises(StorageUnavailableError):
        client.download_blob("a")
    api.requests.labels("POST", "/uploads", "202").inc()
    api.latency.labels("POST", "/uploads").observe(0.2)
    return api.exposition()


def test_promtool_check_metrics_passes_on_a_real_scrape() -> None:
    text = scrape_after_storage_calls()
    assert b'crownsafe_storage_errors_total{backend="fake"' in text
    done = subprocess.run(
        [promtool(), "check", "metrics"], input=text, capture_output=True, timeout=60
    )
    report = (done.stdout + done.stderr).decode(errors="replace")
    assert done.returncode == 0, f"promtool check metrics failed:\n{report}"
    assert not report.strip(), f"promtool found problems:\n{report}"


RULES_DIR = Path(__file__).resolve().parents[3] / "deploy" / "prometheus"


def rule_files() -> list[Path]:
    found = sorted(RULES_DIR.glob("*.rules.yml"))
    assert found, f"no alert rules in {RULES_DIR}"
    return found


def alerting_rules() -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    for path in rule_files():
        for group in yaml.safe_load(path.read_text())["groups"]:
            rules += [rule for rule in group["rules"] if "alert" in rule]
    return rules


def run_promtool(*args: str) -> str:
    done = subprocess.run(
        [promtool(), *args], capture_output=True, timeout=120, cwd=RULES_DIR, text=True
    )
    report = done.stdout + done.stderr
    assert done.returncode == 0, f"promtool {' '.join(args)} failed:\n{report}"
    return report


def test_promtool_check_rules_passes() -> None:
    report = run_promtool("check", "rules", *(p.name for p in rule_files()))
    assert f"SUCCESS: {len(alerting_rules())} rules found" in report, report


def test_promtool_rule_unit_tests_pass() -> None:
    tests = sorted(p.name for p in RULES_DIR.glob("*.test.yml"))
    assert tests, f"no promtool rule tests in {RULES_DIR}"
    assert "SUCCESS" in run_promtool("test", "rules", *tests)


def test_every_rule_has_severity_for_and_a_summary_naming_the_backend() -> None:
    for rule in alerting_rules():
        name = rule["alert"]
        assert rule.get("labels", {}).get("severity") in {"warning", "critical"}, name
        assert rule.get("for"), f"{name} has no for: window"
        assert "{{ $labels.backend }}" in rule["annotations"]["summary"], name


def test_every_rule_is_tested_firing_and_quiet() -> None:
    """Each alert has a promtool case expecting it to fire and one expecting silence."""
    cases: dict[str, set[bool]] = {}
    for path in RULES_DIR.glob("*.test.yml"):
        for test in yaml.safe_load(path.read_text())["tests"]:
            for case in test.get("alert_rule_test", []):
                cases.setdefault(case["alertname"], set()).add(bool(case.get("exp_alerts")))
    for rule in alerting_rules():
        seen = cases.get(rule["alert"])
        assert seen == {True, False}, (
            f"{rule['alert']}: needs a firing and a quiet case, has {seen}"
        )
