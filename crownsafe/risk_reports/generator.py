"""Make a report in one format and, when storage is on, store it (the original backend's
risk report generator).

`_upload_to_azure_blob` keeps the original backend's name (it was `_upload_to_s3`); it uploads to
whichever backend the storage client is, Azure or S3, under a generated name, and returns
the blob name. Whether to store is the caller's `AZURE_BLOB_ENABLED` decision.
"""

from __future__ import annotations

from dataclasses import dataclass

from crownsafe.risk_reports.document import RiskReportDocument, RiskReportFormat
from crownsafe.risk_reports.render import render_html, render_json, render_pdf
from crownsafe.storage.base import StorageClient

__all__ = [
    "CONTENT_TYPES",
    "RenderedRiskReport",
    "StoredRiskReport",
    "_upload_to_azure_blob",
    "render",
]

CONTENT_TYPES: dict[RiskReportFormat, str] = {
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
    "json": "application/json",
}
_RENDERERS = {"pdf": render_pdf, "html": render_html, "json": render_json}


@dataclass(frozen=True)
class RenderedRiskReport:
    format: RiskReportFormat
    content_type: str
    body: bytes


@dataclass(frozen=True)
class StoredRiskReport:
    blob_name: str
    size: int


def render(document: RiskReportDocument, fmt: RiskReportFormat) -> RenderedRiskReport:
    return RenderedRiskReport(fmt, CONTENT_TYPES[fmt], _RENDERERS[fmt](document))


def _upload_to_azure_blob(
    storage: StorageClient, report: RenderedRiskReport, *, user_id: int, report_id: str
) -> StoredRiskReport:
    """Upload a rendered report under `reports/<user>/<report id>.<format>`."""
    blob_name = f"reports/{user_id}/{report_id}.{report.format}"
    storage.upload_file(
        blob_name,
        report.body,
        content_type=report.content_type,
        metadata={"report_id": report_id, "format": report.format},
        overwrite=False,
    )
    return StoredRiskReport(blob_name, len(report.body))
