"""--dry-run says "would", counts what the real run then does, and copies nothing."""

from __future__ import annotations

import io
from typing import Any

import pytest
from sqlalchemy import Engine

from crownsafe.db.session import make_engine
from crownsafe.objects import MigrationOptions, ObjectMigrator
from crownsafe.storage.base import StorageClient
from harness.fixtures.storage import build_storage_client

from .objects import SeedObject, put_objects

pytestmark = pytest.mark.migration

# 7 objects; 5 carry a metadata key Azure refuses ("content-lang"), 2 do not.
OBJECTS = [
    SeedObject(
        f"dry/{i}.jpg", 50 + i, "image/jpeg", {"content-lang": "fr"} if i < 5 else {"owner": "a"}
    )
    for i in range(7)
]


@pytest.fixture
def engine(migrated_database_url: str) -> Any:
    engine = make_engine(migrated_database_url)
    yield engine
    engine.dispose()


def _migrator(
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
    put_objects(storage_services.s3, source.container_name, OBJECTS)
    bucket, container = source.container_name, target.container_name

    dry = _migrator(storage_services, engine, bucket, container, dry_run=True).run().to_dict()
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
    assert dry["would_copy_bytes"] == sum(obj.size for obj in OBJECTS)

    real = _migrator(storage_services, engine, bucket, container, dry_run=False).run().to_dict()
    assert real["dry_run"] is False and real["ok"] is True
    assert (real["copied"], real["metadata_keys_renamed"]) == (
        dry["would_copy"],
        dry["would_rename_metadata_keys"],
    )
    assert (real["would_copy"], real["would_rename_metadata_keys"]) == (0, 0)
    assert len(list(target.iter_blobs())) == 7
