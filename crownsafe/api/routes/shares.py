"""Share a scan: a JSON or PDF snapshot in blob storage behind an expiring link.

Creating a share renders the snapshot, uploads it under a generated name, then records
the `content_snapshot` row (blob first, row second: a row never points to a missing
blob). Resolving the link answers with a fresh, short-lived, read-only SAS URL (JSON,
or a 307 redirect with `?redirect=true`); an expired or revoked link is 410, an unknown
one 404. Resolving needs a valid token of any user (the link is the capability);
revoking is for the owner only (anyone else gets 404). Creating and revoking write their
audit rows in the row's transaction; resolving writes a `share_resolved` row (outcome
`refused` for an expired or revoked link), and goes on if it cannot.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy.exc import IntegrityError

from crownsafe.api._audit import Actor, actor_of, audit_event
from crownsafe.api._owned import owned_scan, scan_document, share_by_token
from crownsafe.api.errors import ApiError, responses
from crownsafe.api.routes.scans import ScanId
from crownsafe.api.schemas import ShareIn, ShareOut, ShareResolved
from crownsafe.api.state import ApiState, get_state, in_thread
from crownsafe.api.users import CurrentUser, limited_user
from crownsafe.db.models import ContentSnapshot
from crownsafe.db.session import session_scope
from crownsafe.risk_reports.generator import render

__all__ = ["router"]

log = logging.getLogger("crownsafe.api.shares")
router = APIRouter(tags=["shares"])
State = Annotated[ApiState, Depends(get_state)]
SharingUser = Annotated[int, Depends(limited_user("shares"))]
Token = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{16,64}$")]


def _create(state: ApiState, actor: Actor, scan_id: int, body: ShareIn) -> ShareOut:
    now = state.clock()
    user_id = actor.user_id
    snapshot_id = uuid.uuid4().hex
    with session_scope(state.sessions) as session:
        scan = owned_scan(session, user_id, scan_id)
        report = render(scan_document(scan, report_id=snapshot_id, now=now), body.format)
    blob_name = f"shares/{user_id}/{snapshot_id}.{body.format}"
    state.storage.upload_file(
        blob_name, report.body, content_type=report.content_type, overwrite=False
    )
    token = secrets.token_urlsafe(24)
    ttl = body.ttl_seconds or state.settings.share_ttl_seconds
    expires_at = now + timedelta(seconds=ttl)
    try:
        with session_scope(state.sessions) as session:
            session.add(
                ContentSnapshot(
                    source_url=f"crownsafe://scans/{scan_id}",
                    blob_container=state.container,
                    blob_name=blob_name,
                    content_type=report.content_type,
                    size_bytes=len(report.body),
                    sha256=hashlib.sha256(report.body).hexdigest(),
                    user_id=user_id,
                    scan_id=scan_id,
                    kind="share",
                    share_token=token,
                    expires_at=expires_at,
                )
            )
            created = audit_event(state, actor, "share_created", "ok", blob_name,
                                  size=len(report.body),
                                  detail={"scan_id": scan_id, "format": body.format,
                                          "expires_at": expires_at.isoformat()})  # fmt: skip
            state.audit.add(session, created)
    except IntegrityError:
        state.storage.delete_blob(blob_name, missing_ok=True)
        raise ApiError(404, f"scan {scan_id} not found") from None
    except BaseException:
        state.storage.delete_blob(blob_name, missing_ok=True)
        raise
    return ShareOut(token=token, url=f"/shares/{token}", format=body.format, expires_at=expires_at)


@router.post(
    "/scans/{scan_id}/shares",
    status_code=201,
    response_model=ShareOut,
    responses=responses(400, 401, 404, 422, 429, 503),
)
async def create_share(
    scan_id: ScanId, body: ShareIn, request: Request, user: SharingUser, state: State
) -> ShareOut:
    """Share one of your scans as a JSON or PDF snapshot behind an expiring link."""
    share = await in_thread(_create, state, actor_of(request, user), scan_id, body)
    share.url = str(request.url_for("resolve_share", token=share.token))
    return share


def _refused(state: ApiState, actor: Actor, share: ContentSnapshot, reason: str) -> ApiError:
    detail = {"reason": reason, "owner_user_id": share.user_id, "share_id": share.id}
    state.audit.record(audit_event(state, actor, "share_resolved", "refused", share.blob_name,
                                   detail=detail))  # fmt: skip
    return ApiError(
        410, f"this share link {'was revoked' if reason == 'revoked' else 'has expired'}"
    )


def _resolve(state: ApiState, actor: Actor, token: str) -> ShareResolved:
    now = state.clock()
    with session_scope(state.sessions) as session:
        share = share_by_token(session, token)
        if share.revoked_at is not None:
            raise _refused(state, actor, share, "revoked")
        if share.expires_at is None or share.expires_at <= now or share.blob_name is None:
            raise _refused(state, actor, share, "expired")
        blob_name, fmt = share.blob_name, "pdf" if share.blob_name.endswith(".pdf") else "json"
        remaining = (share.expires_at - now).total_seconds()
        size, digest = share.size_bytes or 0, share.sha256 or ""
        owner, share_id = share.user_id, share.id
    seconds = max(1.0, min(float(state.settings.sas_ttl_seconds), remaining))
    url = state.read_url(blob_name, seconds)
    detail = {"owner_user_id": owner, "share_id": share_id, "permission": "r", "seconds": seconds}
    state.audit.record(audit_event(state, actor, "share_resolved", "ok", blob_name, size=size,
                                   detail=detail))  # fmt: skip
    return ShareResolved(
        url=url,
        expires_at=now + timedelta(seconds=seconds),
        format=fmt,
        size_bytes=size,
        sha256=digest,
    )


@router.get(
    "/shares/{token}",
    name="resolve_share",
    response_model=ShareResolved,
    responses={
        307: {"description": "Redirect to the snapshot's SAS URL"},
        **responses(401, 404, 410, 422, 503),
    },
)
async def resolve_share(
    token: Token,
    request: Request,
    user: CurrentUser,
    state: State,
    redirect: Annotated[bool, Query(description="307 to the SAS URL instead of JSON")] = False,
) -> Response:
    """A fresh short-lived read-only URL of the shared snapshot."""
    resolved = await in_thread(_resolve, state, actor_of(request, user), token)
    if redirect:
        return RedirectResponse(resolved.url, status_code=307)
    return JSONResponse(resolved.model_dump(mode="json"))


def _revoke(state: ApiState, actor: Actor, token: str) -> str | None:
    with session_scope(state.sessions) as session:
        share = share_by_token(session, token, for_update=True)
        if share.user_id != actor.user_id:
            raise ApiError(404, "share link not found")
        blob_name = share.blob_name
        if share.revoked_at is None:
            share.revoked_at = state.clock()
            revoked = audit_event(state, actor, "share_revoked", "ok", blob_name,
                                  detail={"share_id": share.id})  # fmt: skip
            state.audit.add(session, revoked)
        share.blob_name = None
    return blob_name


@router.delete("/shares/{token}", status_code=204, responses=responses(401, 404, 422))
async def revoke_share(token: Token, request: Request, user: CurrentUser, state: State) -> Response:
    """Revoke one of your share links; the snapshot is deleted (idempotent)."""
    blob_name = await in_thread(_revoke, state, actor_of(request, user), token)
    if blob_name:
        await in_thread(state.forget_urls, blob_name)
        try:
            await in_thread(state.storage.delete_blob, blob_name, missing_ok=True)
        except Exception as exc:
            log.warning("snapshot %r left for the sweep: %s", blob_name, type(exc).__name__)
    return Response(status_code=204)
