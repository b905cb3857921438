"""Cut-over phase log.

`storage_migration_phase` records each phase the live S3 -> Azure cut-over entered (see
crownsafe.cutover): one row per change, the newest row is the phase in force. Every app
and worker process running with `STORAGE_MIGRATION_PHASE=live` reads it, so an operator
moves the whole fleet with one command and no restart; the rows are the cut-over's
history. Downgrade drops it (it matters only while migrating).

Revision ID: e2b6c0d4a9f1
Revises: d7a1f3b5c9e2
Create Date: 2026-12-07 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crownsafe.db.ddl import set_lock_timeout

revision: str = "e2b6c0d4a9f1"
down_revision: str | None = "d7a1f3b5c9e2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PHASES = "'dual-write', 'backfill', 'azure-reads', 'azure-only'"


def upgrade() -> None:
    set_lock_timeout()
    op.create_table(
        "storage_migration_phase",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column(
            "changed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(f"phase IN ({PHASES})", name="ck_storage_migration_phase_phase"),
        sa.PrimaryKeyConstraint("id", name="pk_storage_migration_phase"),
    )


def downgrade() -> None:
    set_lock_timeout()
    op.drop_table("storage_migration_phase")
