"""Visual uploads: stream an image into storage, record an image job, enqueue it.

No `UploadFile` here: FastAPI would spool the whole body before the handler and before
authentication. The route takes the raw request, authenticates from the header, waits
for one of `UPLOAD_SLOTS` storage streams, and streams the body with bounded memory:
multipart/form-data (field `file`, `crownsafe.api._upload_stream`) or a raw body of an
image type or application/octet-stream with a Content-Length
(`crownsafe.api._upload_raw`, one streamed storage request). Order of writes: blob, then
the `image_jobs` row, then the Celery message, all three in the upload's worker thread
(`_commit`); if the row or the message fails, what was written is removed again and the
client gets 503 with Retry-After (nothing recorded as stored). The upload's audit row
shares the job row's transaction (no audit row, no upload); a refused upload gets an
audit row of outcome `refused`, and a thumbnail URL handed out a `sas_issued` row.
"""

from __future__ import annotations

import functools
import logging
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import insert

from crownsafe.api._audit import Actor, actor_of, audit_event
from crownsafe.api._owned import owned_job
from crownsafe.api._upload_core import StoredUpload
from crownsafe.api._upload_raw import RAW_CONTENT_TYPES, is_raw_upload, stream_raw_upload
from crownsafe.api._upload_stream import stream_upload
from crownsafe.api.errors import ApiError, responses
from crownsafe.api.ratelimit_http import ByteQuota
from crownsafe.api.schemas import JobOut, UploadOut
from crownsafe.api.state import ApiState, get_state, in_thread
from crownsafe.api.users import CurrentUser, limited_user
from crownsafe.db.models import ImageJob
from crownsafe.db.session import session_scope
from crownsafe.storage.urls import to_blob_uri
from crownsafe.visual.sniff import ImageKind

__all__ = ["UPLOAD_BODY_SCHEMA", "router"]

log = logging.getLogger("crownsafe.api.uploads")
router = APIRouter(prefix="/uploads", tags=["uploads"])
State = Annotated[ApiState, Depends(get_state)]
JobId = Annotated[uuid.UUID, Path()]
UploadingUser = Annotated[int, Depends(limited_user("uploads"))]
_INSERT_JOB = insert(ImageJob)
_REFUSALS = {413: "too_large", 415: "unsupported_type", 429: "over_quota"}
UPLOAD_BODY_SCHEMA: dict[str, Any] = {
    "required": True,
    "description": "The image as the multipart field `file`, or as the raw body "
    "(an image type or application/octet-stream, with a Content-Length). "
    "Either way the type is decided by the bytes, never by a header.",
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary", "minLength": 1}},
            }
        },
        **{
            media: {"schema": {"type": "string", "format": "binary", "minLength": 1}}
            for media in RAW_CONTENT_TYPES
        },
    },
}


def _record(state: ApiState, job_id: uuid.UUID, actor: Actor, name: str, kind: ImageKind,
            size: int) -> None:  # fmt: skip
    """The job row and the upload's audit row: one transaction of two Core INSERTs (no ORM
    unit of work: its flush cost ~1 ms of the upload's CPU; nothing reads the rows back)."""
    detail = {"job_id": str(job_id), "content_type": kind.content_type}
    uploaded = audit_event(state, actor, "upload", "ok", name, size=size, detail=detail)
    with state.audit.writing(state.engine, uploaded) as connection:
        connection.execute(
            _INSERT_JOB,
            {
                "id": job_id,
                "user_id": actor.user_id,
                "status": "queued",
                "blob_container": state.container,
                "blob_name": name,
                "content_type": kind.content_type,
                "size_bytes": size,
            },
        )


def _forget(state: ApiState, job_id: uuid.UUID, name: str) -> None:
    try:
        with session_scope(state.sessions) as session:
            job = session.get(ImageJob, job_id)
            if job is not None:
                session.delete(job)
        state.storage.delete_blob(name, missing_ok=True)
    except Exception as exc:
        log.warning("upload %s left for the sweep: %s", job_id, type(exc).__name__)


class _NotRecordedError(Exception):
    """The blob was stored but its row or message failed (both were undone)."""


def _commit(state: ApiState, job_id: uuid.UUID, actor: Actor, stored: StoredUpload) -> None:
    """In the upload's worker thread, right after the blob was stored: rows, then message."""
    try:
        _record(state, job_id, actor, stored.blob_name, stored.kind, stored.size)
        state.enqueue(str(job_id))
    except Exception as exc:
        log.error("upload %s not recorded (%s); removing it", job_id, type(exc).__name__)
        _forget(state, job_id, stored.blob_name)
        raise _NotRecordedError from None


@router.post(
    "",
    status_code=202,
    response_model=UploadOut,
    openapi_extra={"requestBody": UPLOAD_BODY_SCHEMA},
    responses=responses(400, 401, 411, 413, 415, 422, 429, 503),
)
async def upload_image(request: Request, user: UploadingUser, state: State) -> JSONResponse:
    """Upload a JPEG, PNG or WebP image for processing: the multipart field `file`, or the
    raw body (Content-Type image/jpeg, image/png, image/webp or application/octet-stream,
    Content-Length required: 411 without)."""
    job_id = uuid.uuid4()
    actor = actor_of(request, user)
    limit = state.settings.upload_max_bytes
    assert state.upload_slots is not None
    counter = state.metrics.upload_bytes.labels("received")
    async with state.upload_slots:
        try:
            receive = stream_raw_upload if is_raw_upload(request) else stream_upload
            stored = await receive(
                request,
                state.upload_storage,
                limit=limit,
                name_for=lambda kind: f"uploads/{user}/{job_id}.{kind.extension}",
                on_bytes=counter.inc,
                on_stored=functools.partial(_commit, state, job_id, actor),
                quota=ByteQuota.of(request, user),
            )
        except _NotRecordedError:
            state.metrics.uploads.labels("failed").inc()
            raise ApiError(
                503, "the upload could not be recorded; nothing was stored, try again",
                headers={"Retry-After": "5"},
            ) from None  # fmt: skip
        except ApiError as exc:
            outcome = _REFUSALS.get(exc.status, "invalid")
            state.metrics.uploads.labels(outcome).inc()
            refused = audit_event(state, actor, "upload", "refused", None,
                                  detail={"job_id": str(job_id), "status": exc.status,
                                          "reason": outcome})  # fmt: skip
            await in_thread(state.audit.record, refused)
            raise
        except Exception:
            state.metrics.uploads.labels("failed").inc()
            raise
    state.metrics.uploads.labels("stored").inc()
    state.metrics.upload_bytes.labels("stored").inc(stored.size)
    body = UploadOut(
        job_id=job_id,
        status="queued",
        status_url=str(request.url_for("get_upload", job_id=str(job_id))),
        blob_url=to_blob_uri(state.container, stored.blob_name),
        content_type=stored.kind.content_type,
        size_bytes=stored.size,
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=202)


def _job(state: ApiState, actor: Actor, job_id: uuid.UUID) -> JobOut:
    with session_scope(state.sessions) as session:
        job = owned_job(session, actor.user_id, job_id)
        out = JobOut(
            job_id=job.id,
            status=job.status,
            content_type=job.content_type,
            size_bytes=job.size_bytes,
            width=job.width,
            height=job.height,
            phash=job.phash,
            error=job.error,
            attempts=job.attempts,
            blob_url=to_blob_uri(job.blob_container, job.blob_name),
            thumbnail_url=None,
        )
        thumbnail = job.thumbnail_name if job.status == "completed" else None
    if thumbnail:
        seconds = state.settings.sas_ttl_seconds
        out.thumbnail_url = state.read_url(thumbnail, seconds)
        state.audit.record(
            audit_event(state, actor, "sas_issued", "ok", thumbnail,
                        detail={"permission": "r", "seconds": seconds, "job_id": str(job_id)})
        )  # fmt: skip
    return out


@router.get(
    "/{job_id}", name="get_upload", response_model=JobOut, responses=responses(401, 404, 422, 503)
)
async def get_upload(job_id: JobId, request: Request, user: CurrentUser, state: State) -> JobOut:
    """The processing status of one of your uploads."""
    return await in_thread(_job, state, actor_of(request, user), job_id)


def _delete(state: ApiState, actor: Actor, job_id: uuid.UUID) -> list[str]:
    """The job's row and its audit rows in one transaction (no audit row, no delete)."""
    with session_scope(state.sessions) as session:
        job = owned_job(session, actor.user_id, job_id)
        names = [job.blob_name] + ([job.thumbnail_name] if job.thumbnail_name else [])
        session.delete(job)
        for name in names:
            deleted = audit_event(state, actor, "delete", "ok", name,
                                  detail={"job_id": str(job_id)})  # fmt: skip
            state.audit.add(session, deleted)
    return names


@router.delete("/{job_id}", status_code=204, responses=responses(401, 404, 422))
async def delete_upload(
    job_id: JobId, request: Request, user: CurrentUser, state: State
) -> Response:
    """Delete one of your uploads and its thumbnail."""
    names = await in_thread(_delete, state, actor_of(request, user), job_id)
    for name in names:
        await in_thread(state.forget_urls, name)
        try:
            await in_thread(state.storage.delete_blob, name, missing_ok=True)
        except Exception as exc:
            log.warning("blob %r left for the sweep: %s", name, type(exc).__name__)
    return Response(status_code=204)
