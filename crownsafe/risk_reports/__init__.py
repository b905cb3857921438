"""Risk reports for a scan: one document model rendered as PDF, HTML or JSON, and stored."""

from crownsafe.risk_reports.document import (
    REPORT_FORMATS,
    REPORT_SCHEMA_VERSION,
    RiskReportDocument,
    RiskReportFormat,
    build_document,
    risk_level,
)
from crownsafe.risk_reports.generator import (
    RenderedRiskReport,
    StoredRiskReport,
    _upload_to_azure_blob,
    render,
)
from crownsafe.risk_reports.render import render_html, render_json, render_pdf

__all__ = [
    "REPORT_FORMATS",
    "REPORT_SCHEMA_VERSION",
    "RenderedRiskReport",
    "RiskReportDocument",
    "RiskReportFormat",
    "StoredRiskReport",
    "_upload_to_azure_blob",
    "build_document",
    "render",
    "render_html",
    "render_json",
    "render_pdf",
    "risk_level",
]
