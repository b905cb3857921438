"""Migrate S3 to Azure Blob Storage columns.

Renames, as the storage migration lists them:

- scan_history.s3_url          -> blob_url
- content_snapshot.s3_bucket   -> blob_container
- content_snapshot.s3_key      -> blob_name
- content_snapshot.s3_presigned_url -> blob_sas_url (see below: values are NOT carried)
- image_jobs.s3_bucket         -> blob_container
- image_jobs.s3_key            -> blob_name
- indexes ix_*_s3_object       -> ix_*_blob_object

Every step is catalog-only (no table rewrite, time independent of the row count) and
runs under a short `SET LOCAL lock_timeout` (crownsafe.db.ddl): if a long transaction
holds a lock on one of the tables, the migration fails fast with SQLSTATE 55P03 instead
of queueing every reader behind its ACCESS EXCLUSIVE request; retry when it is gone.

Presigned URLs: `s3_presigned_url` holds S3 presigned GET URLs, i.e. signed, expiring
credentials for S3 objects, not data. They are useless for Azure (and have expired long
before anyone reads them), so they are not carried into `blob_sas_url`: the column is
dropped and `blob_sas_url` added empty (NULL for every row). Dropping and adding a
nullable column without default is catalog-only, whereas UPDATE ... SET NULL would
rewrite every row. SAS URLs are generated on demand by the storage client.

Values are not touched: `blob_url` still holds S3 URLs and `blob_container`/`blob_name`
the S3 bucket/key until `crownsafe-migrate-objects` copies the objects and rewrites the
rows whose object it verified.

Downgrade renames everything back. `blob_sas_url` (Azure SAS credentials, meaningless
for S3) is dropped and `s3_presigned_url` re-added empty (NULL): presigned URLs are
regenerated on demand. URLs that migrate-objects already rewrote to Azure stay as they
are (the schema downgrade does not move objects back).

Revision ID: b8c97058b7e6
Revises: 5e3a1c9d2f47
Create Date: 2025-10-31 19:41:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crownsafe.db.ddl import set_lock_timeout

revision: str = "b8c97058b7e6"
down_revision: str | None = "5e3a1c9d2f47"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RENAMES: tuple[tuple[str, str, str], ...] = (
    ("scan_history", "s3_url", "blob_url"),
    ("content_snapshot", "s3_bucket", "blob_container"),
    ("content_snapshot", "s3_key", "blob_name"),
    ("image_jobs", "s3_bucket", "blob_container"),
    ("image_jobs", "s3_key", "blob_name"),
)
INDEX_RENAMES: tuple[tuple[str, str], ...] = (
    ("ix_content_snapshot_s3_object", "ix_content_snapshot_blob_object"),
    ("ix_image_jobs_s3_object", "ix_image_jobs_blob_object"),
)


def upgrade() -> None:
    set_lock_timeout()
    for table, old, new in RENAMES:
        op.alter_column(table, old, new_column_name=new)
    op.drop_column("content_snapshot", "s3_presigned_url")
    op.add_column("content_snapshot", sa.Column("blob_sas_url", sa.Text(), nullable=True))
    for old, new in INDEX_RENAMES:
        op.execute(f"ALTER INDEX {old} RENAME TO {new}")


def downgrade() -> None:
    set_lock_timeout()
    for table, old, new in RENAMES:
        op.alter_column(table, new, new_column_name=old)
    op.drop_column("content_snapshot", "blob_sas_url")
    op.add_column("content_snapshot", sa.Column("s3_presigned_url", sa.Text(), nullable=True))
    for old, new in INDEX_RENAMES:
        op.execute(f"ALTER INDEX {new} RENAME TO {old}")
