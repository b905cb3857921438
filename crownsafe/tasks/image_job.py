"""The image job: verify an upload, record its size, make a thumbnail, hash it.

Idempotent, because Celery runs it with `acks_late` and may deliver a message twice
(a worker killed mid-job, a visibility timeout passing):

- a job already `completed` is left alone (a second delivery does nothing);
- the thumbnail goes to a name derived from the job id (`thumbnails/<job id>.jpg`) with
  overwrite, so any number of runs leave exactly one thumbnail;
- the final update is one transaction that sets `completed` only where it is not yet.

A bad image is not retried: the job is marked `failed` with the reason (decompression
bomb, truncated, not decodable). Neither is a storage outage that outlasted the
resilience layer's retries (the one retry layer; a second one here would multiply the
attempts): the job is `failed` with "storage unavailable" and the user uploads again.
Only a crash (worker killed, lost) brings the message back, through Redis' visibility
timeout.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.orm import Session, sessionmaker

from crownsafe.config import Settings
from crownsafe.correlation import correlation_scope
from crownsafe.db.models import ImageJob
from crownsafe.db.session import session_scope
from crownsafe.errors import BlobNotFoundError, StorageError
from crownsafe.storage.base import StorageClient
from crownsafe.tasks._gate import wait_at_gate
from crownsafe.visual.processing import ImageRejectedError, process_image_bytes

__all__ = [
    "JobContext",
    "download_from_blob_storage",
    "fail_job",
    "process_image",
    "thumbnail_name",
]

log = logging.getLogger("crownsafe.tasks.image_job")


@dataclass
class JobContext:
    settings: Settings
    storage: StorageClient
    sessions: sessionmaker[Session]


def thumbnail_name(job_id: str) -> str:
    return f"thumbnails/{job_id}.jpg"


def download_from_blob_storage(storage: StorageClient, blob_name: str) -> bytes:
    """The original backend's name (was `download_from_s3`): the blob's bytes from the
    configured backend."""
    return storage.download_blob(blob_name)


def _start(ctx: JobContext, job_id: uuid.UUID) -> ImageJob | None:
    with session_scope(ctx.sessions) as session:
        job = session.get(ImageJob, job_id, with_for_update=True)
        if job is None or job.status in ("completed", "failed"):
            return None
        job.status = "processing"
        job.attempts = (job.attempts or 0) + 1
        job.updated_at = func.now()
        session.flush()
        session.expunge(job)
        return job


def _finish(ctx: JobContext, job_id: uuid.UUID, values: dict[str, Any]) -> None:
    with session_scope(ctx.sessions) as session:
        session.execute(
            update(ImageJob)
            .where(ImageJob.id == job_id, ImageJob.status.not_in(("completed", "failed")))
            .values(**values, updated_at=func.now())
        )


def fail_job(ctx: JobContext, job_id: str, reason: str) -> None:
    """Mark an unfinished job failed with a reason a user can read."""
    _finish(ctx, uuid.UUID(job_id), {"status": "failed", "error": reason})


def process_image(ctx: JobContext, job_id: str) -> str:
    """Run the job; return its final status ('completed', 'failed' or 'skipped')."""
    with correlation_scope(f"job-{job_id}"):
        key = uuid.UUID(job_id)
        job = _start(ctx, key)
        if job is None:
            log.info("job %s: already finished or gone; nothing to do", job_id)
            return "skipped"
        wait_at_gate(ctx.settings.job_gate_dir, job_id)
        try:
            return _run(ctx, key, job_id, job.blob_name)
        except BlobNotFoundError:
            _finish(ctx, key, {"status": "failed", "error": "the uploaded image is gone"})
        except StorageError as exc:
            log.warning("job %s: storage failed: %s", job_id, exc)
            _finish(ctx, key, {"status": "failed", "error": "storage unavailable; upload again"})
        return "failed"


def _run(ctx: JobContext, key: uuid.UUID, job_id: str, blob_name: str) -> str:
    limit = ctx.settings.image_max_pixels
    data = download_from_blob_storage(ctx.storage, blob_name)
    try:
        processed = process_image_bytes(data, max_pixels=limit)
    except ImageRejectedError as exc:
        log.info("job %s: rejected: %s", job_id, exc.reason)
        _finish(ctx, key, {"status": "failed", "error": exc.reason})
        return "failed"
    image, thumbnail, phash = processed.image, processed.thumbnail, processed.phash
    name = thumbnail_name(job_id)
    ctx.storage.upload_file(
        name,
        thumbnail,
        content_type="image/jpeg",
        metadata={"job_id": job_id},
        overwrite=True,
    )
    _finish(
        ctx,
        key,
        {
            "status": "completed",
            "error": None,
            "width": image.width,
            "height": image.height,
            "phash": phash,
            "thumbnail_name": name,
            "size_bytes": len(data),
            "result": {
                "format": image.format,
                "width": image.width,
                "height": image.height,
                "phash": phash,
                "thumbnail": name,
                "thumbnail_bytes": len(thumbnail),
            },
        },
    )
    log.info("job %s: completed (%dx%d, phash %s)", job_id, image.width, image.height, phash)
    return "completed"
