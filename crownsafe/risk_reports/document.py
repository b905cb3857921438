"""The report's one data model; every format renders this and nothing else.

The JSON rendering of it is published as a JSON Schema (`docs/risk-report.schema.json`,
`schema_version` 1), so consumers can validate what they download.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

__all__ = [
    "REPORT_FORMATS",
    "REPORT_SCHEMA_VERSION",
    "Finding",
    "RiskReportDocument",
    "RiskReportFormat",
    "build_document",
    "risk_level",
]

REPORT_SCHEMA_VERSION = 1
RiskReportFormat = Literal["pdf", "html", "json"]
REPORT_FORMATS: tuple[RiskReportFormat, ...] = ("pdf", "html", "json")


def risk_level(score: float) -> str:
    """low < 25 <= medium < 50 <= high < 75 <= critical (scores run 0-100)."""
    if score >= 75:
        return "critical"
    if score >= 50:
        return "high"
    if score >= 25:
        return "medium"
    return "low"


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    title: str
    detail: str


@dataclass(frozen=True)
class RiskReportDocument:
    report_id: str
    generated_at: datetime
    scan_id: int
    product_name: str
    barcode: str | None
    scan_type: str
    risk_score: float
    risk_level: str
    findings: Sequence[Finding]
    scanned_at: datetime

    def to_json(self) -> dict[str, Any]:
        """The JSON form (what docs/risk-report.schema.json describes)."""
        return {
            "schema_version": REPORT_SCHEMA_VERSION,
            "report_id": self.report_id,
            "generated_at": self.generated_at.isoformat(),
            "scan": {
                "id": self.scan_id,
                "product_name": self.product_name,
                "barcode": self.barcode,
                "scan_type": self.scan_type,
                "scanned_at": self.scanned_at.isoformat(),
            },
            "risk": {"score": self.risk_score, "level": self.risk_level},
            "findings": [asdict(f) for f in self.findings],
        }


def build_document(
    *,
    report_id: str,
    generated_at: datetime,
    scan_id: int,
    product_name: str,
    scan_type: str,
    scanned_at: datetime,
    result: Mapping[str, Any],
) -> RiskReportDocument:
    """A document from a scan row's columns and its `result` JSON (barcode, score, findings)."""
    score = float(result.get("risk_score", 0.0))
    findings = [
        Finding(
            code=str(f.get("code", "")),
            severity=str(f.get("severity", "low")),
            title=str(f.get("title", "")),
            detail=str(f.get("detail", "")),
        )
        for f in result.get("findings", [])
    ]
    barcode = result.get("barcode")
    return RiskReportDocument(
        report_id=report_id,
        generated_at=generated_at,
        scan_id=scan_id,
        product_name=product_name,
        barcode=str(barcode) if barcode is not None else None,
        scan_type=scan_type,
        risk_score=score,
        risk_level=risk_level(score),
        findings=findings,
        scanned_at=scanned_at,
    )
