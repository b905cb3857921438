"""The object migration's rules, in process against the real emulators and PostgreSQL:
dry run (it says "would", counts what the real run then does, and copies nothing),
metadata-key collisions, changed sources, the run lock and the CLI's tally."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from crownsafe.db.session import make_engine
from crownsafe.objects import Ledger, MigrationOptions, ObjectMigrator
from crownsafe.objects.cli import main
from crownsafe.objects.keys import target_blob_name
from crownsafe.storage.base import StorageClient
from harness.fixtures.storage import build_storage_client

from .conftest import connect
from .objects import SeedObject, object_payload, put_objects, s3_sdk_client, seed_rows

pytestmark = pytest.mark.migration

OBJECTS = [
    SeedObject(f"scans/{i:03d}/photo ünï {i}.jpg", 100 + i, "image/jpeg", {"content-lang": "fr"})
    for i in range(30)
]


@pytest.fixture
def engine(migrated_database_url: str) -> Any:
    engine = make_engine(migrated_database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def pair(make_storage_client: Any) -> tuple[StorageClient, StorageClient]:
    return make_storage_client("s3"), make_storage_client("azure")


def migrator(
    services: Any, engine: Engine, source: StorageClient, target: StorageClient, **options: Any
) -> ObjectMigrator:
    bucket, container = source.container_name, target.container_name
    return ObjectMigrator(
        MigrationOptions(
            bucket, container, workers=4, s3_endpoints=(services.s3.endpoint_url,), **options
        ),
        engine,
        lambda: build_storage_client(services, "s3", bucket, read_legacy_keys=True),
        lambda: build_storage_client(services, "azure", container),
        out=io.StringIO(),
    )


def test_dry_run_lists_what_would_happen_and_changes_nothing(
    storage_services: Any,
    engine: Engine,
    pair: tuple[StorageClient, StorageClient],
    migrated_database_url: str,
) -> None:
    """--dry-run counts and lists the copies and row rewrites, and writes nothing."""
    source, target = pair
    put_objects(storage_services.s3, source.container_name, OBJECTS)
    with connect(migrated_database_url) as conn:
        seed_rows(conn, source.container_name, storage_services.s3.endpoint_url, OBJECTS)
        before = conn.execute("SELECT id, blob_url FROM scan_history ORDER BY id").fetchall()
    report = migrator(storage_services, engine, source, target, dry_run=True).run()
    assert (report.objects, report.would_copy, report.copied, report.skipped) == (30, 30, 0, 0)
    assert len(report.plan) == 30 and report.plan[0].startswith("would copy 'scans/000/")
    assert report.would_rename_metadata_keys == 30  # every object has "content-lang"
    assert list(target.iter_blobs()) == []
    assert Ledger(engine, source.container_name, target.container_name).counts() == {}
    with connect(migrated_database_url) as conn:
        after = conn.execute("SELECT id, blob_url FROM scan_history ORDER BY id").fetchall()
    assert after == before
    assert report.url_rows_unresolved["scan_history"] == 30  # nothing verified yet


def test_metadata_key_collision_fails_only_that_object_and_keeps_its_rows(
    storage_services: Any,
    engine: Engine,
    pair: tuple[StorageClient, StorageClient],
    migrated_database_url: str,
) -> None:
    """Keys 'a.b' and 'a-b' both become 'a_b' on Azure: that object is not copied, its row
    stays."""
    source, target = pair
    clash = SeedObject("clash.txt", 5, "text/plain", {"a.b": "1", "a-b": "2"})
    fine = SeedObject("fine.txt", 7, "text/plain", {"2nd-pass": "yes"})
    put_objects(storage_services.s3, source.container_name, [clash, fine])
    with connect(migrated_database_url) as conn:
        seed_rows(conn, source.container_name, storage_services.s3.endpoint_url, [clash, fine])
    report = migrator(storage_services, engine, source, target).run()
    assert (report.copied, report.failed, report.mismatches, report.ok) == (1, 1, 0, False)
    assert "'a-b' and 'a.b' both map to 'a_b'" in report.failures[0]["error"]
    assert [b.name for b in target.iter_blobs()] == ["fine.txt"]
    assert dict(target.head_object("fine.txt").metadata) == {"_2nd_pass": "yes"}
    with connect(migrated_database_url) as conn:
        row = conn.execute(
            "SELECT metadata_key_renames FROM object_migration WHERE source_key = 'fine.txt'"
        ).fetchone()
        urls = [u for (u,) in conn.execute("SELECT blob_url FROM scan_history ORDER BY id")]
    assert row is not None
    assert row[0] == {"keys": {"_2nd_pass": "2nd-pass"}, "encoded_values": []}
    assert urls[0].startswith("s3://"), "the failed object's row must keep its S3 URL"
    assert urls[1] == target.get_blob_url("fine.txt")
    assert report.url_rows_unresolved == {"scan_history": 1, "content_snapshot": 1, "image_jobs": 1}


def test_changed_source_object_is_copied_again(
    storage_services: Any,
    engine: Engine,
    pair: tuple[StorageClient, StorageClient],
) -> None:
    """A verified object whose source changed since (new ETag/size) is copied again, alone."""
    source, target = pair
    put_objects(storage_services.s3, source.container_name, OBJECTS[:10])
    first = migrator(storage_services, engine, source, target).run()
    assert (first.copied, first.ok) == (10, True)
    changed = SeedObject(OBJECTS[3].key, 4321, "image/png", {"content-lang": "de"})
    put_objects(storage_services.s3, source.container_name, [changed])
    second = migrator(storage_services, engine, source, target).run()
    assert (second.copied, second.skipped, second.ok) == (1, 9, True)
    assert target.download_blob(changed.key) == object_payload(changed)
    assert target.head_object(changed.key).content_type == "image/png"


def test_legacy_keys_azure_refuses_are_copied_under_their_mapped_names(
    storage_services: Any,
    engine: Engine,
    pair: tuple[StorageClient, StorageClient],
) -> None:
    """S3 keys ending in '/' or '.' (valid on S3, not on Azure) are read with S3's own key
    rule and land under target_blob_name(), byte-exact, with the mapping counted."""
    source, target = pair
    legacy = [
        SeedObject("exports/2024/", 3, "application/x-directory", {}),
        SeedObject("reports/final.", 11, "application/pdf", {"owner": "u1"}),
    ]
    put_objects(storage_services.s3, source.container_name, legacy)
    report = migrator(storage_services, engine, source, target).run()
    assert (report.copied, report.failed, report.mismatches, report.ok) == (2, 0, 0, True)
    assert report.blob_names_mapped == 2
    for obj in legacy:
        name = target_blob_name(obj.key)
        assert name != obj.key
        assert target.download_blob(name) == object_payload(obj)
        assert target.head_object(name).content_type == obj.content_type


def test_cli_refuses_a_second_run_of_the_same_migration(
    storage_services: Any,
    engine: Engine,
    pair: tuple[StorageClient, StorageClient],
    migrated_database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """While one run holds the advisory lock the CLI exits 2; afterwards it migrates (exit 0)."""
    source, target = pair
    put_objects(storage_services.s3, source.container_name, OBJECTS[:3])
    for name, value in {**storage_services.env(), "DATABASE_URL": migrated_database_url}.items():
        monkeypatch.setenv(name, value)
    args = [
        "--source-bucket",
        source.container_name,
        "--target-container",
        target.container_name,
        "--tally",
        str(tmp_path / "tally.json"),
    ]
    holder = Ledger(engine, source.container_name, target.container_name)
    holder.acquire()
    try:
        assert main(args) == 2
        assert "another migration" in capsys.readouterr().err
    finally:
        holder.release()
    assert main([*args, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads((tmp_path / "tally.json").read_text())
    assert printed["exit_code"] == 0
    assert (printed["copied"], printed["mismatches"], printed["ok"]) == (3, 0, True)


def test_source_listing_matches_seed(storage_services: Any, pair: Any) -> None:
    """The seeding helper really stores metadata keys Azure would refuse (raw boto3)."""
    source, _ = pair
    put_objects(storage_services.s3, source.container_name, OBJECTS[:1])
    head = s3_sdk_client(storage_services.s3).head_object(
        Bucket=source.container_name, Key=OBJECTS[0].key
    )
    assert head["Metadata"] == {"content-lang": "fr"}


# 7 objects; 5 carry a metadata key Azure refuses ("content-lang"), 2 do not.
DRY_RUN_OBJECTS = [
    SeedObject(
        f"dry/{i}.jpg", 50 + i, "image/jpeg", {"content-lang": "fr"} if i < 5 else {"owner": "a"}
    )
    for i in range(7)
]


def _migrator_without_rows(
    services: Any, engine: Engine, bucket: str, container: str, *, dry_run: bool
) -> ObjectMigrator:
    return ObjectMigrator(
        MigrationOptions(bucket, container, workers=2, dry_run=dry_run, rewrite_urls=False),
        engine,
        lambda: build_storage_client(services, "s3", bucket, read_legacy_keys=True),
        lambda: build_storage_client(services, "azure", container),
        out=io.StringIO(),
    )


def test_dry_run_counts_what_the_real_run_does_and_copies_nothing(
    storage_services: Any, engine: Engine, make_storage_client: Any
) -> None:
    """Dry run: marked dry_run, would_copy 7 / would_rename_metadata_keys 5, copied 0 and
    an empty target; the real run afterwards copies 7 and renames keys on 5."""
    source: StorageClient = make_storage_client("s3")
    target: StorageClient = make_storage_client("azure")
    put_objects(storage_services.s3, source.container_name, DRY_RUN_OBJECTS)
    bucket, container = source.container_name, target.container_name

    dry = (
        _migrator_without_rows(storage_services, engine, bucket, container, dry_run=True)
        .run()
        .to_dict()
    )
    print(
        {
            k: dry.get(k)
            for k in (
                "dry_run",
                "copied",
                "would_copy",
                "metadata_keys_renamed",
                "would_rename_metadata_keys",
            )
        }
    )
    assert dry["dry_run"] is True
    assert list(target.iter_blobs()) == [], "a dry run must not copy"
    assert (dry["copied"], dry["metadata_keys_renamed"]) == (0, 0)
    assert (dry["would_copy"], dry["would_rename_metadata_keys"]) == (7, 5)
    assert dry["would_copy_bytes"] == sum(obj.size for obj in DRY_RUN_OBJECTS)

    real = (
        _migrator_without_rows(storage_services, engine, bucket, container, dry_run=False)
        .run()
        .to_dict()
    )
    assert real["dry_run"] is False and real["ok"] is True
    assert (real["copied"], real["metadata_keys_renamed"]) == (
        dry["would_copy"],
        dry["would_rename_metadata_keys"],
    )
    assert (real["would_copy"], real["would_rename_metadata_keys"]) == (0, 0)
    assert len(list(target.iter_blobs())) == 7
