"""S3-era schema: scan_history, content_snapshot and image_jobs with their S3 columns.

The schema as it stood while Crown Safe stored images and report sources in S3:
`scan_history.s3_url`, `content_snapshot.s3_bucket/s3_key/s3_presigned_url` and
`image_jobs.s3_bucket/s3_key`. The next revision (b8c97058b7e6) renames them.

Revision ID: 5e3a1c9d2f47
Revises:
Create Date: 2025-10-15 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from crownsafe.db.ddl import set_lock_timeout

revision: str = "5e3a1c9d2f47"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _created_at() -> sa.Column[object]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )


def upgrade() -> None:
    set_lock_timeout()
    op.create_table(
        "scan_history",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("scan_type", sa.String(32), nullable=False),
        sa.Column("product_name", sa.String(512), nullable=True),
        sa.Column("result", postgresql.JSONB(), nullable=True),
        sa.Column("s3_url", sa.Text(), nullable=True),
        _created_at(),
        sa.PrimaryKeyConstraint("id", name="pk_scan_history"),
    )
    op.create_index("ix_scan_history_user_id_created_at", "scan_history", ["user_id", "created_at"])
    op.create_table(
        "content_snapshot",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("source_url", sa.Text(), nullable=False),
        sa.Column("s3_bucket", sa.String(63), nullable=True),
        sa.Column("s3_key", sa.String(1024), nullable=True),
        sa.Column("s3_presigned_url", sa.Text(), nullable=True),
        sa.Column("content_type", sa.String(255), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        _created_at(),
        sa.PrimaryKeyConstraint("id", name="pk_content_snapshot"),
    )
    op.create_index("ix_content_snapshot_s3_object", "content_snapshot", ["s3_bucket", "s3_key"])
    op.create_table(
        "image_jobs",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(16), server_default="queued", nullable=False),
        sa.Column("s3_bucket", sa.String(63), nullable=False),
        sa.Column("s3_key", sa.String(1024), nullable=False),
        sa.Column("content_type", sa.String(255), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("result", postgresql.JSONB(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        _created_at(),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'processing', 'completed', 'failed')",
            name="ck_image_jobs_status",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_image_jobs"),
    )
    op.create_index("ix_image_jobs_status", "image_jobs", ["status"])
    op.create_index("ix_image_jobs_s3_object", "image_jobs", ["s3_bucket", "s3_key"])


def downgrade() -> None:
    set_lock_timeout()
    op.drop_table("image_jobs")
    op.drop_table("content_snapshot")
    op.drop_table("scan_history")
