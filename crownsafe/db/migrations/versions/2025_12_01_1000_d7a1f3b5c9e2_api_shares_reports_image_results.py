"""Columns the API and the image worker need.

`content_snapshot` gets its owner (`user_id`), the scan it was made from (`scan_id`,
deleted with the scan), its `kind` (`share` or `report`), and for shares the link's
`share_token` (unique), `expires_at` and `revoked_at`. `image_jobs` gets what the worker
records about a verified image: `size_bytes`, `width`, `height`, the perceptual hash
(`phash`, 16 hex digits) and the thumbnail's blob name. All new columns are nullable, so
existing rows stay valid and the upgrade is a metadata-only change in PostgreSQL; the
downgrade drops them again.

Revision ID: d7a1f3b5c9e2
Revises: c4d2e8f1a7b3
Create Date: 2025-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crownsafe.db.ddl import set_lock_timeout

revision: str = "d7a1f3b5c9e2"
down_revision: str | None = "c4d2e8f1a7b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    set_lock_timeout()
    op.add_column("content_snapshot", sa.Column("user_id", sa.BigInteger(), nullable=True))
    op.add_column("content_snapshot", sa.Column("scan_id", sa.BigInteger(), nullable=True))
    op.add_column("content_snapshot", sa.Column("kind", sa.String(16), nullable=True))
    op.add_column("content_snapshot", sa.Column("share_token", sa.String(64), nullable=True))
    op.add_column("content_snapshot", sa.Column("expires_at", _TZ, nullable=True))
    op.add_column("content_snapshot", sa.Column("revoked_at", _TZ, nullable=True))
    op.create_foreign_key(
        "fk_content_snapshot_scan_id_scan_history",
        "content_snapshot",
        "scan_history",
        ["scan_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_check_constraint(
        "ck_content_snapshot_kind", "content_snapshot", "kind IN ('share', 'report')"
    )
    op.create_unique_constraint(
        "uq_content_snapshot_share_token", "content_snapshot", ["share_token"]
    )
    op.create_index(
        "ix_content_snapshot_user_id_scan_id", "content_snapshot", ["user_id", "scan_id"]
    )
    op.add_column("image_jobs", sa.Column("size_bytes", sa.BigInteger(), nullable=True))
    op.add_column("image_jobs", sa.Column("width", sa.Integer(), nullable=True))
    op.add_column("image_jobs", sa.Column("height", sa.Integer(), nullable=True))
    op.add_column("image_jobs", sa.Column("phash", sa.String(16), nullable=True))
    op.add_column("image_jobs", sa.Column("thumbnail_name", sa.String(1024), nullable=True))
    op.create_index("ix_image_jobs_user_id_status", "image_jobs", ["user_id", "status"])


def downgrade() -> None:
    set_lock_timeout()
    op.drop_index("ix_image_jobs_user_id_status", table_name="image_jobs")
    for column in ("thumbnail_name", "phash", "height", "width", "size_bytes"):
        op.drop_column("image_jobs", column)
    op.drop_index("ix_content_snapshot_user_id_scan_id", table_name="content_snapshot")
    op.drop_constraint("uq_content_snapshot_share_token", "content_snapshot", type_="unique")
    op.drop_constraint("ck_content_snapshot_kind", "content_snapshot", type_="check")
    op.drop_constraint(
        "fk_content_snapshot_scan_id_scan_history", "content_snapshot", type_="foreignkey"
    )
    for column in ("revoked_at", "expires_at", "share_token", "kind", "scan_id", "user_id"):
        op.drop_column("content_snapshot", column)
