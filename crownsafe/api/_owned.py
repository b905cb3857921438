"""Loading a user's own objects: anything else is 404, so existence is never revealed."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crownsafe.api.errors import ApiError
from crownsafe.db.models import ContentSnapshot, ImageJob, ScanHistory
from crownsafe.risk_reports.document import RiskReportDocument, build_document

__all__ = ["owned_job", "owned_scan", "scan_document", "share_by_token"]


def owned_scan(session: Session, user_id: int, scan_id: int) -> ScanHistory:
    scan = session.get(ScanHistory, scan_id)
    if scan is None or scan.user_id != user_id:
        raise ApiError(404, f"scan {scan_id} not found")
    return scan


def owned_job(session: Session, user_id: int, job_id: uuid.UUID) -> ImageJob:
    job = session.get(ImageJob, job_id)
    if job is None or job.user_id != user_id:
        raise ApiError(404, f"upload {job_id} not found")
    return job


def share_by_token(session: Session, token: str, *, for_update: bool = False) -> ContentSnapshot:
    query = select(ContentSnapshot).where(
        ContentSnapshot.share_token == token, ContentSnapshot.kind == "share"
    )
    if for_update:
        query = query.with_for_update()
    share = session.scalars(query).first()
    if share is None:
        raise ApiError(404, "share link not found")
    return share


def scan_document(scan: ScanHistory, *, report_id: str, now: datetime) -> RiskReportDocument:
    return build_document(
        report_id=report_id,
        generated_at=now,
        scan_id=scan.id,
        product_name=scan.product_name or "",
        scan_type=scan.scan_type,
        scanned_at=scan.created_at,
        result=scan.result or {},
    )
