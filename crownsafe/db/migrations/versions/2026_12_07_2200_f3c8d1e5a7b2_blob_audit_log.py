"""Blob audit log: the append-only trail of blob operations.

`blob_audit_log` gets one row per blob operation of the API (upload, delete, SAS issued,
share created / resolved / revoked, report generated; during the live cut-over each
fallback read from S3; see crownsafe.audit). The database
itself keeps it append-only: row triggers refuse UPDATE and DELETE and a statement
trigger refuses TRUNCATE, for every role, whatever the client. Only the table's owner
can disable a trigger, so a deployment that must keep the trail even from the app runs
the app as a role with INSERT and SELECT on it, not as the owner (docs/security.md).
Downgrade drops the table and its function (the trail goes with it).

Revision ID: f3c8d1e5a7b2
Revises: e2b6c0d4a9f1
Create Date: 2026-12-07 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from crownsafe.db.ddl import set_lock_timeout

revision: str = "f3c8d1e5a7b2"
down_revision: str | None = "e2b6c0d4a9f1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPERATIONS = (
    "'upload', 'download', 'delete', 'sas_issued', 'share_created', 'share_resolved', "
    "'share_revoked', 'report_generated', 'fallback_read'"
)
OUTCOMES = "'ok', 'refused', 'failed'"

APPEND_ONLY_FUNCTION = """
CREATE FUNCTION blob_audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'blob_audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$
"""


def upgrade() -> None:
    set_lock_timeout()
    op.create_table(
        "blob_audit_log",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.clock_timestamp(),
            nullable=False,
        ),
        sa.Column("operation", sa.String(24), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("blob_name", sa.String(1024), nullable=True),
        sa.Column("container", sa.String(63), nullable=True),
        sa.Column("backend", sa.String(16), nullable=True),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("client_ip", sa.String(64), nullable=True),
        sa.Column("correlation_id", sa.String(128), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.CheckConstraint(f"operation IN ({OPERATIONS})", name="ck_blob_audit_log_operation"),
        sa.CheckConstraint(f"outcome IN ({OUTCOMES})", name="ck_blob_audit_log_outcome"),
        sa.PrimaryKeyConstraint("id", name="pk_blob_audit_log"),
    )
    op.create_index(
        "ix_blob_audit_log_user_id_occurred_at", "blob_audit_log", ["user_id", "occurred_at"]
    )
    op.create_index("ix_blob_audit_log_blob_name", "blob_audit_log", ["blob_name"])
    op.create_index(
        "ix_blob_audit_log_operation_occurred_at", "blob_audit_log", ["operation", "occurred_at"]
    )
    op.execute(APPEND_ONLY_FUNCTION)
    op.execute(
        "CREATE TRIGGER blob_audit_log_no_update_delete BEFORE UPDATE OR DELETE "
        "ON blob_audit_log FOR EACH ROW EXECUTE FUNCTION blob_audit_log_append_only()"
    )
    op.execute(
        "CREATE TRIGGER blob_audit_log_no_truncate BEFORE TRUNCATE "
        "ON blob_audit_log FOR EACH STATEMENT EXECUTE FUNCTION blob_audit_log_append_only()"
    )


def downgrade() -> None:
    set_lock_timeout()
    op.drop_table("blob_audit_log")
    op.execute("DROP FUNCTION blob_audit_log_append_only()")
