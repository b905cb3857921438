"""SQLAlchemy 2 models at the head revision (after the S3 -> Azure Blob column rename).

`scan_history` keeps a user's scans (the visual, barcode and ingredient scans of the
share-results API) with the uploaded image's URL; `content_snapshot` is a stored copy of
fetched content (report sources) with its object location; `image_jobs` are the
background image-processing jobs of the visual upload endpoints. `object_migration` is
the progress ledger of `crownsafe-migrate-objects` (one row per copied S3 object).
`blob_audit_log` is the append-only audit trail of blob operations (crownsafe.audit).
The Alembic revisions in `crownsafe/db/migrations` produce exactly this DDL (checked by
pytest-alembic's `test_model_definitions_match_ddl`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "AUDIT_OPERATIONS",
    "AUDIT_OUTCOMES",
    "CUTOVER_PHASES",
    "IMAGE_JOB_STATUSES",
    "MIGRATION_STATUSES",
    "SNAPSHOT_KINDS",
    "Base",
    "BlobAuditLog",
    "ContentSnapshot",
    "ImageJob",
    "ObjectMigration",
    "ScanHistory",
    "StorageMigrationPhase",
]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

IMAGE_JOB_STATUSES = ("queued", "processing", "completed", "failed")
SNAPSHOT_KINDS = ("share", "report")
MIGRATION_STATUSES = ("pending", "copying", "verified", "failed")
CUTOVER_PHASES = ("dual-write", "backfill", "azure-reads", "azure-only")
AUDIT_OPERATIONS = (
    "upload",
    "download",
    "delete",
    "sas_issued",
    "share_created",
    "share_resolved",
    "share_revoked",
    "report_generated",
    "fallback_read",
)
AUDIT_OUTCOMES = ("ok", "refused", "failed")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ScanHistory(Base):
    """One scan by a user; `blob_url` is where the scanned image is stored."""

    __tablename__ = "scan_history"
    __table_args__ = (Index("ix_scan_history_user_id_created_at", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    scan_type: Mapped[str] = mapped_column(String(32))
    product_name: Mapped[str | None] = mapped_column(String(512))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    blob_url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ContentSnapshot(Base):
    """A stored copy of content; `blob_sas_url` is a short-lived read link.

    The API stores two kinds (`kind`): a shared scan snapshot (`share`, found by its
    `share_token`, valid until `expires_at` unless `revoked_at`) and a risk report
    (`report`). `user_id` owns the row; `scan_id` is the scan it was made from.
    """

    __tablename__ = "content_snapshot"
    __table_args__ = (
        Index("ix_content_snapshot_blob_object", "blob_container", "blob_name"),
        Index("ix_content_snapshot_user_id_scan_id", "user_id", "scan_id"),
        CheckConstraint(_in("kind", SNAPSHOT_KINDS), name="kind"),
        UniqueConstraint("share_token"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    source_url: Mapped[str] = mapped_column(Text)
    blob_container: Mapped[str | None] = mapped_column(String(63))
    blob_name: Mapped[str | None] = mapped_column(String(1024))
    blob_sas_url: Mapped[str | None] = mapped_column(Text)
    content_type: Mapped[str | None] = mapped_column(String(255))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    scan_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("scan_history.id", ondelete="CASCADE")
    )
    kind: Mapped[str | None] = mapped_column(String(16))
    share_token: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ImageJob(Base):
    """A background image-processing job for an uploaded image."""

    __tablename__ = "image_jobs"
    __table_args__ = (
        CheckConstraint(_in("status", IMAGE_JOB_STATUSES), name="status"),
        Index("ix_image_jobs_status", "status"),
        Index("ix_image_jobs_blob_object", "blob_container", "blob_name"),
        Index("ix_image_jobs_user_id_status", "user_id", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        Uuid, primary_key=True, server_default=text("gen_random_uuid()")
    )
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), server_default="queued")
    blob_container: Mapped[str] = mapped_column(String(63))
    blob_name: Mapped[str] = mapped_column(String(1024))
    content_type: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    phash: Mapped[str | None] = mapped_column(String(16))
    thumbnail_name: Mapped[str | None] = mapped_column(String(1024))


class ObjectMigration(Base):
    """Progress of one S3 object's copy into an Azure container (see crownsafe.objects.cli)."""

    __tablename__ = "object_migration"
    __table_args__ = (
        UniqueConstraint("source_bucket", "source_key", "target_container"),
        UniqueConstraint("target_container", "target_name"),
        CheckConstraint(_in("status", MIGRATION_STATUSES), name="status"),
        Index("ix_object_migration_progress", "source_bucket", "target_container", "status"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    source_bucket: Mapped[str] = mapped_column(String(63))
    source_key: Mapped[str] = mapped_column(Text)
    source_etag: Mapped[str | None] = mapped_column(String(255))
    target_container: Mapped[str] = mapped_column(String(63))
    target_name: Mapped[str] = mapped_column(Text)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str | None] = mapped_column(String(255))
    sha256: Mapped[str | None] = mapped_column(String(64))
    metadata_key_renames: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(16), server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    copies: Mapped[int] = mapped_column(Integer, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class StorageMigrationPhase(Base):
    """One phase change of the live cut-over; the newest row is in force (crownsafe.cutover)."""

    __tablename__ = "storage_migration_phase"
    __table_args__ = (CheckConstraint(_in("phase", CUTOVER_PHASES), name="phase"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    phase: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class BlobAuditLog(Base):
    """One blob operation: who did what to which blob, from where, and how it ended.

    Append-only: triggers of the revision that creates it refuse UPDATE, DELETE and
    TRUNCATE in the database itself, whatever the client (see crownsafe.audit)."""

    __tablename__ = "blob_audit_log"
    __table_args__ = (
        CheckConstraint(_in("operation", AUDIT_OPERATIONS), name="operation"),
        CheckConstraint(_in("outcome", AUDIT_OUTCOMES), name="outcome"),
        Index("ix_blob_audit_log_user_id_occurred_at", "user_id", "occurred_at"),
        Index("ix_blob_audit_log_blob_name", "blob_name"),
        Index("ix_blob_audit_log_operation_occurred_at", "operation", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.clock_timestamp()
    )
    operation: Mapped[str] = mapped_column(String(24))
    outcome: Mapped[str] = mapped_column(String(16))
    blob_name: Mapped[str | None] = mapped_column(String(1024))
    container: Mapped[str | None] = mapped_column(String(63))
    backend: Mapped[str | None] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    client_ip: Mapped[str | None] = mapped_column(String(64))
    correlation_id: Mapped[str | None] = mapped_column(String(128))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
