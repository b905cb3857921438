"""Risk reports for a scan: one document model rendered as PDF, HTML or JSON, and stored."""

from crownsafe.reports.document import (
    REPORT_FORMATS,
    REPORT_SCHEMA_VERSION,
    ReportDocument,
    ReportFormat,
    build_document,
    risk_level,
)
from crownsafe.reports.generator import RenderedReport, StoredReport, _upload_to_azure_blob, render
from crownsafe.reports.render import render_html, render_json, render_pdf

__all__ = [
    "REPORT_FORMATS",
    "REPORT_SCHEMA_VERSION",
    "RenderedReport",
    "ReportDocument",
    "ReportFormat",
    "StoredReport",
    "_upload_to_azure_blob",
    "build_document",
    "render",
    "render_html",
    "render_json",
    "render_pdf",
    "risk_level",
]
