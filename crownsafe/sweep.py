"""Find and remove blobs that no row points to: `python -m crownsafe.sweep` / `crownsafe-sweep`.

Writes happen blob first, row second, so a crash between the two (or a failed delete of
a blob after its row was deleted) leaves a blob without a row, never a row without a
blob. This sweep finds those blobs under the API's prefixes (`uploads/`, `thumbnails/`,
`shares/`, `reports/`) of the configured container, checking names against
`image_jobs.blob_name`, `image_jobs.thumbnail_name` and `content_snapshot.blob_name`
in batches. Blobs younger than `--grace-seconds` (default 900) are left alone: an
upload in progress has its blob before its row.

**Dry run by default**: it lists what it would delete. `--apply` deletes. Exit code 0,
also when orphans were found; 2 for a configuration error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, union_all
from sqlalchemy.orm import Session, sessionmaker

from crownsafe.db.models import ContentSnapshot, ImageJob
from crownsafe.storage.base import BlobInfo, StorageClient

__all__ = ["PREFIXES", "SweepResult", "find_orphans", "main", "sweep"]

PREFIXES = ("uploads/", "thumbnails/", "shares/", "reports/")
BATCH = 500


@dataclass
class SweepResult:
    scanned: int = 0
    orphans: list[BlobInfo] = field(default_factory=list)
    deleted: int = 0


def _referenced(session: Session, names: Sequence[str]) -> set[str]:
    query: Any = union_all(
        select(ImageJob.blob_name.label("name")).where(ImageJob.blob_name.in_(names)),
        select(ImageJob.thumbnail_name.label("name")).where(ImageJob.thumbnail_name.in_(names)),
        select(ContentSnapshot.blob_name.label("name")).where(ContentSnapshot.blob_name.in_(names)),
    )
    return {row[0] for row in session.execute(query)}


def _batches(blobs: Iterable[BlobInfo], size: int) -> Iterator[list[BlobInfo]]:
    batch: list[BlobInfo] = []
    for blob in blobs:
        batch.append(blob)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def find_orphans(
    storage: StorageClient,
    sessions: sessionmaker[Session],
    *,
    grace: timedelta,
    now: datetime | None = None,
    prefixes: Sequence[str] = PREFIXES,
) -> SweepResult:
    """Blobs under `prefixes` older than `grace` that no row names."""
    cutoff = (now or datetime.now(UTC)) - grace
    result = SweepResult()
    for prefix in prefixes:
        for batch in _batches(storage.iter_blobs(prefix=prefix), BATCH):
            result.scanned += len(batch)
            with sessions() as session:
                known = _referenced(session, [b.name for b in batch])
            result.orphans += [
                b
                for b in batch
                if b.name not in known and (b.last_modified is None or b.last_modified < cutoff)
            ]
    return result


def sweep(
    storage: StorageClient,
    sessions: sessionmaker[Session],
    *,
    apply: bool,
    grace: timedelta,
    now: datetime | None = None,
) -> SweepResult:
    """`find_orphans`, then delete them when `apply` (re-checked one by one before deleting)."""
    result = find_orphans(storage, sessions, grace=grace, now=now)
    if not apply:
        return result
    for blob in result.orphans:
        with sessions() as session:
            if _referenced(session, [blob.name]):
                continue
        if storage.delete_blob(blob.name, missing_ok=True):
            result.deleted += 1
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crownsafe-sweep",
        description="List (default) or delete (--apply) blobs that no database row points to.",
    )
    parser.add_argument(
        "--apply", action="store_true", help="delete the orphans (default: dry run)"
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="only list the orphans (the default; overrides --apply)",
    )
    parser.add_argument(
        "--grace-seconds",
        type=float,
        default=900.0,
        help="leave blobs younger than this alone (uploads in flight); default 900",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from sqlalchemy.exc import SQLAlchemyError

    from crownsafe.config import load_settings
    from crownsafe.db.session import (
        describe_database_error,
        make_engine,
        make_session_factory,
    )
    from crownsafe.errors import ConfigError
    from crownsafe.redaction import redact
    from crownsafe.storage.factory import create_storage_client

    try:
        settings = load_settings()
        storage = create_storage_client(settings)
        engine = make_engine(settings.database_url.get() or None)
    except ConfigError as exc:
        print(f"crownsafe-sweep: {exc}", file=sys.stderr)
        return 2
    apply = args.apply and not args.dry_run
    try:
        result = sweep(
            storage,
            make_session_factory(engine),
            apply=apply,
            grace=timedelta(seconds=args.grace_seconds),
        )
    except SQLAlchemyError as exc:
        reason = describe_database_error(exc, settings.database_url.get() or None)
        print(f"crownsafe-sweep: {redact(reason)}", file=sys.stderr)
        return 2
    finally:
        storage.close()
        engine.dispose()
    verb = "deleted" if apply else "would delete"
    for blob in result.orphans:
        print(f"orphan {blob.name} ({blob.size} bytes, {blob.last_modified})")
    print(
        f"crownsafe-sweep: scanned {result.scanned} blobs in {storage.container_name}; "
        f"{len(result.orphans)} orphans; {verb} {result.deleted if apply else len(result.orphans)}"
        + ("" if apply else " (dry run; pass --apply to delete)")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
