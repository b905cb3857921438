"""Scans: create, list, read and delete a user's scan results."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy import select

from crownsafe.api._audit import Actor, actor_of, audit_event
from crownsafe.api._owned import owned_job, owned_scan
from crownsafe.api.errors import responses
from crownsafe.api.schemas import FindingIn, ScanIn, ScanList, ScanOut
from crownsafe.api.state import ApiState, get_state, in_thread
from crownsafe.api.users import CurrentUser
from crownsafe.db.models import ContentSnapshot, ScanHistory
from crownsafe.db.session import session_scope
from crownsafe.risk_reports.document import risk_level
from crownsafe.storage.urls import to_blob_uri

__all__ = ["ScanId", "router", "scan_out"]

log = logging.getLogger("crownsafe.api.scans")
router = APIRouter(prefix="/scans", tags=["scans"])
ScanId = Annotated[int, Path(ge=1, le=2**63 - 1)]
State = Annotated[ApiState, Depends(get_state)]


def scan_out(scan: ScanHistory) -> ScanOut:
    result: dict[str, Any] = scan.result or {}
    score = float(result.get("risk_score", 0.0))
    return ScanOut(
        id=scan.id,
        product_name=scan.product_name or "",
        barcode=result.get("barcode"),
        scan_type=scan.scan_type,
        risk_score=score,
        risk_level=risk_level(score),
        findings=[FindingIn(**f) for f in result.get("findings", [])],
        image_url=scan.blob_url,
        created_at=scan.created_at,
    )


def _create(state: ApiState, user_id: int, body: ScanIn) -> ScanOut:
    with session_scope(state.sessions) as session:
        blob_url = None
        if body.upload_id is not None:
            job = owned_job(session, user_id, body.upload_id)
            blob_url = to_blob_uri(job.blob_container, job.blob_name)
        scan = ScanHistory(
            user_id=user_id,
            scan_type=body.scan_type,
            product_name=body.product_name,
            result={
                "barcode": body.barcode,
                "risk_score": body.risk_score,
                "findings": [f.model_dump() for f in body.findings],
            },
            blob_url=blob_url,
        )
        session.add(scan)
        session.flush()
        session.refresh(scan)
        return scan_out(scan)


@router.post("", status_code=201, response_model=ScanOut, responses=responses(400, 401, 404, 422))
async def create_scan(body: ScanIn, user: CurrentUser, state: State) -> ScanOut:
    """Record a scan result (product, barcode, risk score, findings)."""
    return await in_thread(_create, state, user, body)


def _list(state: ApiState, user_id: int, limit: int) -> ScanList:
    with session_scope(state.sessions) as session:
        rows = session.scalars(
            select(ScanHistory)
            .where(ScanHistory.user_id == user_id)
            .order_by(ScanHistory.created_at.desc(), ScanHistory.id.desc())
            .limit(limit)
        ).all()
        return ScanList(scans=[scan_out(r) for r in rows])


@router.get("", response_model=ScanList, responses=responses(401, 422))
async def list_scans(
    user: CurrentUser, state: State, limit: Annotated[int, Query(ge=1, le=100)] = 20
) -> ScanList:
    """Your most recent scans."""
    return await in_thread(_list, state, user, limit)


def _get(state: ApiState, user_id: int, scan_id: int) -> ScanOut:
    with session_scope(state.sessions) as session:
        return scan_out(owned_scan(session, user_id, scan_id))


@router.get("/{scan_id}", response_model=ScanOut, responses=responses(401, 404, 422))
async def get_scan(scan_id: ScanId, user: CurrentUser, state: State) -> ScanOut:
    return await in_thread(_get, state, user, scan_id)


def _delete(state: ApiState, actor: Actor, scan_id: int) -> list[str]:
    """The scan, its snapshots' rows and one audit row per snapshot blob in one transaction."""
    with session_scope(state.sessions) as session:
        scan = owned_scan(session, actor.user_id, scan_id)
        names = [
            name
            for name in session.scalars(
                select(ContentSnapshot.blob_name).where(
                    ContentSnapshot.scan_id == scan.id, ContentSnapshot.blob_name.is_not(None)
                )
            ).all()
            if name
        ]
        session.delete(scan)
        for name in names:
            deleted = audit_event(state, actor, "delete", "ok", name, detail={"scan_id": scan_id})
            state.audit.add(session, deleted)
    return names


def _delete_blobs(state: ApiState, names: list[str]) -> None:
    """Rows go first, blobs after: a failure here leaves an orphan blob for the sweep."""
    for name in names:
        state.forget_urls(name)
        try:
            state.storage.delete_blob(name, missing_ok=True)
        except Exception as exc:
            log.warning("blob %r left for the sweep: %s", name, type(exc).__name__)


@router.delete("/{scan_id}", status_code=204, responses=responses(401, 404, 422))
async def delete_scan(
    scan_id: ScanId, request: Request, user: CurrentUser, state: State
) -> Response:
    """Delete a scan with its shares and reports."""
    names = await in_thread(_delete, state, actor_of(request, user), scan_id)
    await in_thread(_delete_blobs, state, names)
    return Response(status_code=204)
