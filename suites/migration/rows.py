"""Seed rows for the schema walk, and per-table checksums computed inside PostgreSQL.

The rows are generated with generate_series (fast on a 2-core machine) and cover NULLs
in every nullable column, non-ASCII text (accents, CJK, emoji), 2 KB URLs and JSONB.
`table_checksums` returns, per table, the row count and an md5 over the md5 of every row
(`ROW(...)::text`, which tells NULL from '') in id order, for the logical columns of the
table under the physical names the given schema generation uses.
"""

from __future__ import annotations

from typing import Any, Literal

import psycopg

__all__ = [
    "LOGICAL_COLUMNS",
    "PRESIGNED",
    "Generation",
    "column_names",
    "presigned_count",
    "seed_s3_era",
    "table_checksums",
]

Generation = Literal["s3", "blob"]

PHYSICAL: dict[Generation, dict[str, str]] = {
    "s3": {"url": "s3_url", "container": "s3_bucket", "name": "s3_key"},
    "blob": {"url": "blob_url", "container": "blob_container", "name": "blob_name"},
}
PRESIGNED: dict[Generation, str] = {"s3": "s3_presigned_url", "blob": "blob_sas_url"}

LOGICAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "scan_history": (
        "id",
        "user_id",
        "scan_type",
        "product_name",
        "result",
        "{url}",
        "created_at",
    ),
    "content_snapshot": (
        "id",
        "source_url",
        "{container}",
        "{name}",
        "content_type",
        "size_bytes",
        "sha256",
        "created_at",
    ),
    "image_jobs": (
        "id",
        "user_id",
        "status",
        "{container}",
        "{name}",
        "content_type",
        "error",
        "result",
        "attempts",
        "created_at",
        "updated_at",
    ),
}

UNICODE = "Crème brûlée — 髪のケア 🦊 ünïcødé"

SEED_SQL = """
INSERT INTO scan_history (user_id, scan_type, product_name, result, s3_url, created_at)
SELECT
  CASE WHEN mod(g, 11) = 0 THEN NULL ELSE mod(g, 500) END,
  (ARRAY['visual', 'barcode', 'ingredient', 'label'])[1 + mod(g, 4)],
  CASE WHEN mod(g, 7) = 0 THEN NULL WHEN mod(g, 5) = 0 THEN %(uni)s || ' ' || g
       ELSE 'product ' || g END,
  CASE WHEN mod(g, 13) = 0 THEN NULL
       ELSE jsonb_build_object('score', mod(g, 100), 'labels', jsonb_build_array(%(uni)s, g)) END,
  CASE WHEN mod(g, 9) = 0 THEN NULL
       WHEN mod(g, 10) = 0 THEN 'https://crownsafe-images.s3.amazonaws.com/scans/' || g || '/'
                            || repeat('long-path-', 200) || '.jpg'
       WHEN mod(g, 3) = 0 THEN 's3://crownsafe-images/scans/' || g || '/%%C3%%BCber%%20photo.jpg'
       ELSE 'https://crownsafe-images.s3.eu-west-1.amazonaws.com/scans/' || g || '.jpg' END,
  timestamptz '2025-01-01 00:00:00+00' + g * interval '1 minute'
FROM generate_series(1, %(scans)s) AS g;

INSERT INTO content_snapshot
  (source_url, s3_bucket, s3_key, s3_presigned_url, content_type, size_bytes, sha256, created_at)
SELECT
  'https://example.org/ingredients/' || g || '?q=' || CASE WHEN mod(g, 4) = 0
     THEN repeat('x', 2048) ELSE 'short' END,
  CASE WHEN mod(g, 17) = 0 THEN NULL ELSE 'crownsafe-reports' END,
  CASE WHEN mod(g, 17) = 0 THEN NULL
       WHEN mod(g, 6) = 0 THEN 'snapshots/' || %(uni)s || '/' || g || '.html'
       ELSE 'snapshots/' || g || '.html' END,
  CASE WHEN mod(g, 5) = 0 THEN NULL
       ELSE 'https://crownsafe-reports.s3.amazonaws.com/snapshots/' || g
            || '.html?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=3600&X-Amz-Signature='
            || md5(g::text) END,
  CASE WHEN mod(g, 8) = 0 THEN NULL ELSE 'text/html; charset=utf-8' END,
  CASE WHEN mod(g, 8) = 0 THEN NULL ELSE g * 37 END,
  CASE WHEN mod(g, 8) = 0 THEN NULL ELSE encode(sha256(g::text::bytea), 'hex') END,
  timestamptz '2025-02-01 00:00:00+00' + g * interval '1 second'
FROM generate_series(1, %(snapshots)s) AS g;

INSERT INTO image_jobs
  (id, user_id, status, s3_bucket, s3_key, content_type, error, result, attempts, created_at,
   updated_at)
SELECT
  md5('job-' || g)::uuid,
  CASE WHEN mod(g, 10) = 0 THEN NULL ELSE g END,
  (ARRAY['queued', 'processing', 'completed', 'failed'])[1 + mod(g, 4)],
  'crownsafe-images',
  'uploads/' || g || '/' || CASE WHEN mod(g, 9) = 0 THEN repeat('é', 900) ELSE 'image.png' END,
  CASE WHEN mod(g, 6) = 0 THEN NULL ELSE 'image/png' END,
  CASE WHEN mod(g, 4) = 3 THEN 'decoder failed: ' || %(uni)s ELSE NULL END,
  CASE WHEN mod(g, 4) = 2 THEN jsonb_build_object('labels', jsonb_build_array('hair', g)) END,
  mod(g, 3),
  timestamptz '2025-03-01 00:00:00+00' + g * interval '1 second',
  timestamptz '2025-03-01 00:00:00+00' + g * interval '2 second'
FROM generate_series(1, %(jobs)s) AS g;
"""


def seed_s3_era(conn: psycopg.Connection[Any], scans: int, snapshots: int, jobs: int) -> int:
    """Insert the rows into the S3-era tables; return how many."""
    params = {"uni": UNICODE, "scans": scans, "snapshots": snapshots, "jobs": jobs}
    for statement in SEED_SQL.split(";\n\n"):
        conn.execute(statement, params)
    conn.commit()
    return scans + snapshots + jobs


def column_names(table: str, generation: Generation) -> list[str]:
    return [c.format(**PHYSICAL[generation]) for c in LOGICAL_COLUMNS[table]]


def table_checksums(
    conn: psycopg.Connection[Any], generation: Generation
) -> dict[str, tuple[int, str]]:
    """{table: (row count, md5 of the ordered row md5s)} over the logical columns."""
    result = {}
    for table in LOGICAL_COLUMNS:
        columns = ", ".join(column_names(table, generation))
        row = conn.execute(
            f"SELECT count(*), md5(coalesce(string_agg(md5(ROW({columns})::text), '' "
            f"ORDER BY id), '')) FROM {table}"
        ).fetchone()
        assert row is not None
        result[table] = (int(row[0]), str(row[1]))
    conn.commit()
    return result


def presigned_count(conn: psycopg.Connection[Any], generation: Generation) -> int:
    """Rows of content_snapshot whose presigned/SAS column is not NULL."""
    column = PRESIGNED[generation]
    row = conn.execute(f"SELECT count({column}) FROM content_snapshot").fetchone()
    conn.commit()
    return int(row[0]) if row else -1
