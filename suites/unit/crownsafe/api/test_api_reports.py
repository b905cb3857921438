"""Report rendering: the JSON form validates against the published schema; HTML escapes."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest
from pypdf import PdfReader

from crownsafe.risk_reports import build_document, render_html, render_json, render_pdf, risk_level

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[4] / "docs" / "risk-report.schema.json").read_text()
)
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _document(name: str = "Gel <b>&</b>", findings: int = 2):  # type: ignore[no-untyped-def]
    return build_document(
        report_id="0" * 32,
        generated_at=NOW,
        scan_id=1,
        product_name=name,
        scan_type="barcode",
        scanned_at=NOW,
        result={
            "barcode": "0012345678905",
            "risk_score": 55.5,
            "findings": [
                {"code": f"C{i}", "severity": "high", "title": "<script>x</script>", "detail": "d"}
                for i in range(findings)
            ],
        },
    )


def test_json_matches_the_published_schema() -> None:
    jsonschema.validate(json.loads(render_json(_document())), SCHEMA)


def test_html_escapes_user_text() -> None:
    html = render_html(_document()).decode()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Gel &lt;b&gt;&amp;&lt;/b&gt;" in html


@pytest.mark.parametrize("findings", [0, 80])
def test_pdf_has_pages(findings: int) -> None:
    pdf = render_pdf(_document(findings=findings))
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    assert pdf.startswith(b"%PDF-") and (pages > 1) == (findings > 40)


@pytest.mark.parametrize(
    "score,level", [(0, "low"), (24.9, "low"), (25, "medium"), (50, "high"), (75, "critical")]
)
def test_risk_levels(score: float, level: str) -> None:
    assert risk_level(score) == level
