"""The three views of a report: table, JSON (against its published schema), JUnit XML."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import jsonschema

from harness.predeploy.model import CheckResult, PredeployResult
from harness.predeploy.output import junit_xml, print_table, result_json
from harness.predeploy.output.json_result import schema_text

SCHEMA = Path(__file__).resolve().parents[4] / "docs" / "predeploy" / "result.schema.json"


def _report() -> PredeployResult:
    checks = [
        CheckResult(id="config.a", area="config", title="a", status="passed", message="ok"),
        CheckResult(
            id="storage.b",
            area="storage",
            title="b",
            status="failed",
            message="x < y & z",
            hint="do <this>",
        ),
        CheckResult(id="sas.c", area="sas", title="c", status="skipped", message="emulator gap"),
    ]
    return PredeployResult(
        started_at=datetime(2026, 12, 1, tzinfo=UTC),
        duration_s=1.5,
        backend="azure",
        target="azure container at a remote endpoint (https)",
        outcome="failed",
        exit_code=1,
        counts={"passed": 1, "failed": 1, "skipped": 1, "planned": 0},
        probe_prefix="_crownsafe-predeploy/",
        checks=checks,
    )


def test_junit_has_one_testcase_per_check_with_failure_and_skipped() -> None:
    root = ET.fromstring(junit_xml(_report()))
    suite = root.find("testsuite")
    assert suite is not None and suite.get("tests") == "3" and suite.get("failures") == "1"
    assert [c.get("name") for c in suite.findall("testcase")] == ["config.a", "storage.b", "sas.c"]
    failure = suite.find("testcase[@name='storage.b']/failure")
    assert failure is not None and failure.get("message") == "x < y & z"
    assert "Fix: do <this>" in (failure.text or "")
    skipped = suite.find("testcase[@name='sas.c']/skipped")
    assert skipped is not None and skipped.get("message") == "emulator gap"


def test_json_matches_the_published_schema() -> None:
    assert SCHEMA.read_text() == schema_text(), "regenerate docs/predeploy/result.schema.json"
    document = json.loads(result_json(_report()))
    jsonschema.validate(document, json.loads(SCHEMA.read_text()))
    assert document["schema_version"] == 1
    assert PredeployResult.model_validate(document) == _report()


def test_plain_table_shows_the_hint_and_the_exit_code() -> None:
    out = io.StringIO()
    print_table(_report(), out)
    lines = out.getvalue().splitlines()
    assert lines[2].split() == ["PASS", "config.a", "ok"]
    assert any(line.strip() == "fix: do <this>" for line in lines)
    assert lines[-1] == "predeploy: failed (1 passed, 1 failed, 1 skipped) in 1.50 s, exit 1"
