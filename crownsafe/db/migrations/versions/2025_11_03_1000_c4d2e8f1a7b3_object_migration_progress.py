"""Object-migration progress table.

`object_migration` is the ledger of `crownsafe-migrate-objects`: one row per S3 object
copied into an Azure container (key, target name, size, sha256 computed by us, status
pending/copying/verified/failed, attempts, copies, original metadata keys that had to be
renamed). It lets a killed run resume without copying twice and a finished run re-run
without copying anything. Kept in its own revision because it belongs to the data move,
not to the column rename; downgrade drops it (the ledger only matters while moving).

Revision ID: c4d2e8f1a7b3
Revises: b8c97058b7e6
Create Date: 2025-11-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from crownsafe.db.ddl import set_lock_timeout

revision: str = "c4d2e8f1a7b3"
down_revision: str | None = "b8c97058b7e6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, nullable: bool = False) -> sa.Column[object]:
    default = None if nullable else sa.func.now()
    return sa.Column(name, sa.DateTime(timezone=True), server_default=default, nullable=nullable)


def upgrade() -> None:
    set_lock_timeout()
    op.create_table(
        "object_migration",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("source_bucket", sa.String(63), nullable=False),
        sa.Column("source_key", sa.Text(), nullable=False),
        sa.Column("source_etag", sa.String(255), nullable=True),
        sa.Column("target_container", sa.String(63), nullable=False),
        sa.Column("target_name", sa.Text(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("content_type", sa.String(255), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("metadata_key_renames", postgresql.JSONB(), nullable=True),
        sa.Column("status", sa.String(16), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("copies", sa.Integer(), server_default="0", nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        _timestamp("verified_at", nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'copying', 'verified', 'failed')",
            name="ck_object_migration_status",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_object_migration"),
        sa.UniqueConstraint(
            "source_bucket",
            "source_key",
            "target_container",
            name="uq_object_migration_source_bucket_source_key_target_container",
        ),
        sa.UniqueConstraint(
            "target_container",
            "target_name",
            name="uq_object_migration_target_container_target_name",
        ),
    )
    op.create_index(
        "ix_object_migration_progress",
        "object_migration",
        ["source_bucket", "target_container", "status"],
    )


def downgrade() -> None:
    set_lock_timeout()
    op.drop_table("object_migration")
