"""Risk reports for a scan in PDF, HTML or JSON (the original backend's risk report generator).

With `AZURE_BLOB_ENABLED=true` the report is uploaded with `_upload_to_azure_blob` (to the
configured backend, Azure or S3), recorded as a `content_snapshot` row of kind `report`,
and returned as a read-only SAS URL; its `report_generated` audit row shares the row's
transaction. With it off nothing is stored: the report comes back in the response body
(`stored: false`, base64 for PDF), and the response says so.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy.exc import IntegrityError

from crownsafe.api._audit import Actor, actor_of, audit_event
from crownsafe.api._owned import owned_scan, scan_document
from crownsafe.api.errors import ApiError, responses
from crownsafe.api.routes.scans import ScanId
from crownsafe.api.schemas import ReportIn, ReportOut
from crownsafe.api.state import ApiState, get_state, in_thread
from crownsafe.api.users import CurrentUser
from crownsafe.db.models import ContentSnapshot
from crownsafe.db.session import session_scope
from crownsafe.risk_reports.generator import _upload_to_azure_blob, render

__all__ = ["router"]

router = APIRouter(tags=["reports"])
State = Annotated[ApiState, Depends(get_state)]


def _create(state: ApiState, actor: Actor, scan_id: int, body: ReportIn) -> ReportOut:
    now = state.clock()
    user_id = actor.user_id
    report_id = uuid.uuid4().hex
    with session_scope(state.sessions) as session:
        scan = owned_scan(session, user_id, scan_id)
        report = render(scan_document(scan, report_id=report_id, now=now), body.format)
    digest = hashlib.sha256(report.body).hexdigest()
    if not state.settings.azure_blob_enabled:
        text = body.format != "pdf"
        return ReportOut(
            report_id=report_id,
            format=body.format,
            stored=False,
            url=None,
            expires_at=None,
            content=report.body.decode() if text else base64.b64encode(report.body).decode(),
            content_encoding="utf-8" if text else "base64",
            size_bytes=len(report.body),
            sha256=digest,
            note="storage is disabled (AZURE_BLOB_ENABLED=false): the report was not stored",
        )
    stored = _upload_to_azure_blob(state.storage, report, user_id=user_id, report_id=report_id)
    try:
        with session_scope(state.sessions) as session:
            session.add(
                ContentSnapshot(
                    source_url=f"crownsafe://scans/{scan_id}/report",
                    blob_container=state.container,
                    blob_name=stored.blob_name,
                    content_type=report.content_type,
                    size_bytes=stored.size,
                    sha256=digest,
                    user_id=user_id,
                    scan_id=scan_id,
                    kind="report",
                )
            )
            generated = audit_event(state, actor, "report_generated", "ok", stored.blob_name,
                                    size=stored.size,
                                    detail={"scan_id": scan_id, "format": body.format,
                                            "permission": "r",
                                            "seconds": state.settings.sas_ttl_seconds})  # fmt: skip
            state.audit.add(session, generated)
    except IntegrityError:
        state.storage.delete_blob(stored.blob_name, missing_ok=True)
        raise ApiError(404, f"scan {scan_id} not found") from None
    except BaseException:
        state.storage.delete_blob(stored.blob_name, missing_ok=True)
        raise
    seconds = state.settings.sas_ttl_seconds
    url = state.read_url(stored.blob_name, seconds)
    return ReportOut(
        report_id=report_id,
        format=body.format,
        stored=True,
        url=url,
        expires_at=now + timedelta(seconds=seconds),
        content=None,
        content_encoding=None,
        size_bytes=stored.size,
        sha256=digest,
    )


@router.post(
    "/scans/{scan_id}/reports",
    status_code=201,
    response_model=ReportOut,
    responses=responses(400, 401, 404, 422, 503),
)
async def create_report(
    scan_id: ScanId, body: ReportIn, request: Request, user: CurrentUser, state: State
) -> ReportOut:
    """Generate a risk report of one of your scans."""
    return await in_thread(_create, state, actor_of(request, user), scan_id, body)
