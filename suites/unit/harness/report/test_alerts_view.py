"""The report's alerts section (harness.report.view.alerts) on the golden alerts.json files:
per backend a timeline (fault bands, pending and firing bars with tooltips, a data table)
and the rule x fault table whose cells carry the model's judgements."""

from __future__ import annotations

import re
from pathlib import Path

from harness.report.view.alerts import alerts_section
from harness.report.view.model import Cell
from harness.runfolder.alerts import AlertsFile, BackendDrill

GOLDEN = Path(__file__).resolve().parents[4] / "fixtures" / "golden_runs"


def golden(name: str) -> AlertsFile:
    return AlertsFile.model_validate_json((GOLDEN / name / "alerts.json").read_text())


def test_no_file_no_section() -> None:
    assert alerts_section(None) is None


def test_each_backend_has_a_timeline_with_its_faults_and_alert_spans() -> None:
    section = alerts_section(golden("full_pass"))
    assert section is not None
    assert [b.backend for b in section.backends] == ["azure", "s3"]
    assert "divided by 60" in section.summary
    azure = section.backends[0]
    assert azure.figure is not None
    svg = str(azure.figure.svg)
    assert svg.startswith("<svg") and 'aria-labelledby="alerts-azure-t alerts-azure-d"' in svg
    for fault in ("storage down", "every request 503", "latency 6 s"):
        assert f">{fault}</text>" in svg
    # one firing bar and one pending bar per span, each with its tooltip
    spans = golden("full_pass").drills[0].alerts
    assert len(re.findall(r'fill="#b00020"><title>', svg)) == len(spans)
    assert len(re.findall(r'fill="#c77700"><title>', svg)) == len(spans)
    assert "CrownsafeUploadsSlow firing 33.5 s to 36.5 s" in svg
    assert len(azure.figure.table.rows) == len(spans)


def _cells(table_rows: list[list[Cell | str]]) -> dict[str, list[Cell | str]]:
    return {str(row[0]): row[1:] for row in table_rows}


def test_the_rule_x_fault_table_shows_expected_against_seen() -> None:
    section = alerts_section(golden("full_pass"))
    assert section is not None
    table = section.backends[0].table
    assert table.headers == ["alert", "clean", "storage down", "every request 503", "latency 6 s"]
    rows = _cells(table.rows)
    clean, down, _, latency = rows["CrownsafeStorageCircuitBreakerOpen"]
    assert isinstance(clean, Cell) and clean.text == "must stay quiet: quiet"
    assert isinstance(down, Cell) and down.cls == "pass"
    assert down.text == (
        "must fire: fired after 1.6 s (<= 4.0); resolved 1.4 s after clearing (<= 10.0)"
    )
    slow = rows["CrownsafeUploadsSlow"][3]
    assert isinstance(slow, Cell) and slow.cls == "pass" and "(<= 16.0)" in slow.text
    consequence = rows["CrownsafeApi5xxRatioHigh"][1]
    assert isinstance(consequence, Cell) and consequence.text.startswith("may fire: fired after")
    assert isinstance(latency, Cell) and latency.cls == ""


def test_broken_promises_are_failed_cells_with_the_problem_as_tooltip() -> None:
    section = alerts_section(golden("not_ready"))
    assert section is not None
    rows = _cells(section.backends[1].table.rows)
    clean = rows["CrownsafeStorageCircuitBreakerOpen"][0]
    assert isinstance(clean, Cell) and clean.cls == "fail"
    assert "fired on the clean load" in clean.title
    never = rows["CrownsafeUploadsSlow"][3]
    assert isinstance(never, Cell) and never.cls == "fail"
    assert never.text == "must fire: never fired"


def test_a_backend_that_could_not_run_says_why() -> None:
    result = golden("full_pass")
    result.drills[1] = BackendDrill(backend="s3", error="Prometheus did not see the app up")
    section = alerts_section(result)
    assert section is not None
    s3 = section.backends[1]
    assert s3.figure is None and "Prometheus did not see the app up" in s3.summary
