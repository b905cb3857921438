"""Migration benchmarks: the S3 -> blob column rename at two table sizes, side by side,
and object-migration throughput beside a plain raw-SDK download-then-upload loop.

The rename (b8c97058b7e6) should be catalog-only: its time must not grow with the row
count. Each round is one `alembic upgrade` (Python + Alembic overhead included, as a user
runs it); `extra_info.ddl_ms` is the DDL alone, timed inside one transaction that is
rolled back (median of 5), and the test asserts the tables' relfilenodes did not change
(no table rewrite).

Object migration: `crownsafe-migrate-objects`' engine (HEAD, streamed copy, target
verification by HEAD + re-download + sha256, ledger writes) with 8 workers and with 1,
against a sequential raw loop (boto3 get_object -> azure upload_blob, no verification,
no metadata). Emulator numbers (moto, Azurite): compare ratios, not absolutes.
Under --benchmark-disable (make test) the sizes are small and each runs once; the quick
level renames 200,000 rows instead of 1,000,000 and copies the bucket twice, not 3 times.
"""

from __future__ import annotations

import io
import statistics
import time
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from alembic import command
from bench_support import label, level, measuring, raw_azure_ops, raw_s3_ops
from sqlalchemy.engine import make_url

from crownsafe.db.alembic_config import make_alembic_config
from crownsafe.db.session import make_engine
from crownsafe.objects import MigrationOptions, ObjectMigrator
from harness.fixtures.storage import build_storage_client
from harness.plugin import selected_backends
from harness.services.provision import ProvisionedServices

pytestmark = pytest.mark.migration

S3_ERA, RENAME = "5e3a1c9d2f47", "b8c97058b7e6"
RENAME_ROWS = {
    "full": {"small": 10_000, "large": 1_000_000},
    "quick": {"small": 10_000, "large": 200_000},
    "smoke": {"small": 1_000, "large": 10_000},
}
COPY_ROUNDS = {"full": 3, "quick": 2, "smoke": 1}
TABLES = ("scan_history", "content_snapshot", "image_jobs")
RENAME_SQL = (
    "ALTER TABLE scan_history RENAME s3_url TO blob_url",
    "ALTER TABLE content_snapshot RENAME s3_bucket TO blob_container",
    "ALTER TABLE content_snapshot RENAME s3_key TO blob_name",
    "ALTER TABLE image_jobs RENAME s3_bucket TO blob_container",
    "ALTER TABLE image_jobs RENAME s3_key TO blob_name",
    "ALTER TABLE content_snapshot DROP COLUMN s3_presigned_url",
    "ALTER TABLE content_snapshot ADD COLUMN blob_sas_url TEXT",
)
SEED_SQL = (
    "INSERT INTO scan_history (user_id, scan_type, s3_url) SELECT g, 'visual', "
    "'s3://crownsafe-images/scans/' || g || '.jpg' FROM generate_series(1, %(n)s) g",
    "INSERT INTO content_snapshot (source_url, s3_bucket, s3_key, s3_presigned_url) SELECT "
    "'https://example.org/' || g, 'crownsafe-reports', 'snap/' || g, "
    "'https://x.s3.amazonaws.com/snap/' || g || '?X-Amz-Signature=ab' "
    "FROM generate_series(1, %(half)s) g",
    "INSERT INTO image_jobs (status, s3_bucket, s3_key) SELECT 'completed', "
    "'crownsafe-images', 'uploads/' || g FROM generate_series(1, %(half)s) g",
)


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _filenodes(conn: psycopg.Connection[Any]) -> dict[str, int]:
    rows = conn.execute(
        "SELECT relname::text, pg_relation_filenode(oid) FROM pg_class WHERE relname = ANY(%s)",
        (list(TABLES),),
    ).fetchall()
    return {name: int(node) for name, node in rows}


def _timed_rename_ms(conn: psycopg.Connection[Any]) -> float:
    """The rename's DDL alone, inside a transaction that is rolled back."""
    with conn.transaction(force_rollback=True):
        began = time.perf_counter()
        for statement in RENAME_SQL:
            conn.execute(statement)
        return (time.perf_counter() - began) * 1000


@pytest.mark.parametrize("scale", ["small", "large"])
def test_bench_rename_migration(
    benchmark: Any, request: pytest.FixtureRequest, database_url: str, scale: str
) -> None:
    """The rename upgrade on N rows (half as many in each of the two other tables)."""
    rows = RENAME_ROWS[level(request.config)][scale]
    config = make_alembic_config(database_url)
    command.upgrade(config, S3_ERA)
    with psycopg.connect(_libpq(database_url), autocommit=True) as conn:
        for statement in SEED_SQL:
            conn.execute(statement, {"n": rows, "half": rows // 2})
        conn.execute("VACUUM ANALYZE")  # so autovacuum does not start during the rounds
        conn.execute("CHECKPOINT")
        size = conn.execute("SELECT pg_total_relation_size('scan_history')").fetchone()
        before = _filenodes(conn)
        ddl_ms = statistics.median(_timed_rename_ms(conn) for _ in range(5))

    def downgrade() -> None:
        command.downgrade(config, S3_ERA)

    benchmark.group = "rename-migration[postgres]"
    benchmark.extra_info.update(
        operation="rename-migration",
        backend="postgres",
        impl="crownsafe",
        scale=scale,
        rows_scan_history=rows,
        rows_total=rows + 2 * (rows // 2),
        scan_history_mb=round(int(size[0] if size else 0) / 1e6, 1),
        ddl_ms=round(ddl_ms, 2),
    )
    benchmark.pedantic(
        command.upgrade,
        args=(config, RENAME),
        setup=downgrade,
        rounds=5 if measuring(request.config) else 1,
        iterations=1,
    )
    with psycopg.connect(_libpq(database_url)) as conn:
        assert _filenodes(conn) == before, "the rename rewrote a table: not catalog-only"
        count = conn.execute("SELECT count(blob_url) FROM scan_history").fetchone()
    assert count is not None and count[0] == rows


@pytest.fixture
def seeded_bucket(
    request: pytest.FixtureRequest, storage_services: ProvisionedServices
) -> Iterator[tuple[str, int, int]]:
    """A bucket with N objects of S bytes (200 x 256 KiB, or 20 x 16 KiB when disabled)."""
    missing = {"s3", "azure"} - set(selected_backends(request.config))
    if missing:
        pytest.skip(
            f"the object migration copies S3 -> Azure and {' and '.join(sorted(missing))} is not "
            "in --backends: run with --backends azure,s3 to measure it"
        )
    count, size = (200, 256 * 1024) if measuring(request.config) else (20, 16 * 1024)
    bucket = f"bench-mig-{uuid.uuid4().hex[:16]}"
    client = build_storage_client(storage_services, "s3", bucket)
    client.create_container()
    raw = raw_s3_ops(storage_services, bucket)
    body = bytes(range(256)) * (size // 256)
    for i in range(count):
        raw.upload(f"objects/{i:05d}.bin", body)
    raw.close()
    yield bucket, count, count * size
    client.delete_container(missing_ok=True)
    client.close()


def _container(services: ProvisionedServices, made: list[str]) -> str:
    name = f"bench-mig-{uuid.uuid4().hex[:16]}"
    client = build_storage_client(services, "azure", name)
    client.create_container()
    client.close()
    made.append(name)
    return name


@pytest.mark.parametrize("impl", ["crownsafe-8-workers", "crownsafe-1-worker", "raw-sdk-loop"])
def test_bench_object_migration(
    benchmark: Any,
    request: pytest.FixtureRequest,
    storage_services: ProvisionedServices,
    migrated_database_url: str,
    seeded_bucket: tuple[str, int, int],
    impl: str,
) -> None:
    """Copy the whole bucket into a fresh container per round; MB/s and objects/s."""
    bucket, count, total_bytes = seeded_bucket
    engine = make_engine(migrated_database_url)
    made: list[str] = []
    copied: list[int] = []

    def setup() -> tuple[tuple[str], dict[str, Any]]:
        return (_container(storage_services, made),), {}

    def crownsafe(container: str) -> None:
        options = MigrationOptions(
            bucket, container, workers=8 if impl == "crownsafe-8-workers" else 1,
            rewrite_urls=False, progress_every=10**9,
        )  # fmt: skip
        report = ObjectMigrator(
            options,
            engine,
            lambda: build_storage_client(storage_services, "s3", bucket),
            lambda: build_storage_client(storage_services, "azure", container),
            out=io.StringIO(),
        ).run()
        assert report.ok and report.mismatches == 0
        copied.append(report.copied)

    def raw_loop(container: str) -> None:
        source = raw_s3_ops(storage_services, bucket)
        target = raw_azure_ops(storage_services, container)
        keys = [item["Key"] for item in source.list_prefix("objects/")]
        for key in keys:
            target.upload(key, source.download(key))
        source.close()
        target.close()
        copied.append(len(keys))

    operation = "migrate-objects-1-worker" if impl == "crownsafe-1-worker" else "migrate-objects"
    label(benchmark, operation, "azure", "sdk" if impl == "raw-sdk-loop" else "crownsafe",
          total_bytes // count)  # fmt: skip
    try:
        benchmark.pedantic(
            raw_loop if impl == "raw-sdk-loop" else crownsafe,
            setup=setup,
            rounds=COPY_ROUNDS[level(request.config)],
            iterations=1,
        )
    finally:
        for name in made:
            client = build_storage_client(storage_services, "azure", name)
            client.delete_container(missing_ok=True)
            client.close()
        engine.dispose()
    assert copied and all(n == count for n in copied)
    stats = getattr(benchmark, "stats", None)
    mean = stats.stats.mean if stats is not None else None
    benchmark.extra_info.update(
        variant=impl,
        source="s3",
        objects=count,
        megabytes=round(total_bytes / 1e6, 2),
        mb_per_s=round(total_bytes / 1e6 / mean, 2) if mean else None,
        objects_per_s=round(count / mean, 1) if mean else None,
        verified=impl != "raw-sdk-loop",
    )
