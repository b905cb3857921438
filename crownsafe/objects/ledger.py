"""The progress ledger in PostgreSQL (`object_migration`): what was copied and verified.

One row per (source bucket, source key, target container). States:
`pending` -> `copying` (committed before any byte moves, attempts + 1) -> `verified`
(size and sha256 equal on both sides) or `failed`. A run killed mid-copy leaves rows in
`copying`; the next run checks whether the target already holds a verified copy before
uploading again, so nothing is copied twice. `verified` rows are skipped unless the
source object changed (size or ETag) since.

A run holds a PostgreSQL advisory lock for its (bucket, container) pair, so two runs of
the same migration cannot interleave; the lock dies with the session, also on SIGKILL.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    and_,
    case,
    func,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert

from crownsafe.db.models import ObjectMigration

__all__ = ["Ledger", "LedgerError", "PlannedObject", "TodoObject"]

T: Table = ObjectMigration.__table__  # type: ignore[assignment]
BATCH = 500


class LedgerError(RuntimeError):
    """The progress table is missing, or another run holds the migration lock."""


@dataclass(frozen=True)
class PlannedObject:
    key: str
    target_name: str
    size: int
    etag: str | None


@dataclass(frozen=True)
class TodoObject:
    id: int
    key: str
    target_name: str
    size: int
    status: str
    attempts: int


class Ledger:
    """Reads and writes the progress rows of one (bucket -> container) migration."""

    def __init__(self, engine: Engine, bucket: str, container: str) -> None:
        self.engine, self.bucket, self.container = engine, bucket, container
        self._lock_conn: Connection | None = None

    def _mine(self) -> Any:
        return and_(T.c.source_bucket == self.bucket, T.c.target_container == self.container)

    def check_schema(self) -> None:
        if not inspect(self.engine).has_table("object_migration"):
            raise LedgerError(
                "table object_migration does not exist: run `alembic upgrade head` "
                "(DATABASE_URL pointing at this database) first"
            )

    @property
    def _lock_key(self) -> dict[str, str]:
        return {"k": f"crownsafe-migrate:{self.bucket}->{self.container}"}

    def acquire(self) -> None:
        """Take the advisory lock for this pair or raise LedgerError."""
        conn = self.engine.connect()
        got = conn.execute(
            text("SELECT pg_try_advisory_lock(hashtextextended(:k, 0))"), self._lock_key
        ).scalar()
        conn.commit()
        if not got:
            conn.close()
            raise LedgerError(
                f"another migration of s3://{self.bucket} -> {self.container} is running "
                "(advisory lock held); wait for it or stop it first"
            )
        self._lock_conn = conn

    def release(self) -> None:
        """Unlock explicitly: closing a pooled connection would keep the session (and lock)."""
        if self._lock_conn is not None:
            conn, self._lock_conn = self._lock_conn, None
            conn.execute(text("SELECT pg_advisory_unlock(hashtextextended(:k, 0))"), self._lock_key)
            conn.commit()
            conn.close()

    def plan(self, objects: Iterable[PlannedObject]) -> None:
        """Upsert listed objects; a verified row whose source changed goes back to pending."""
        batch: list[dict[str, Any]] = []
        for obj in objects:
            batch.append(
                {
                    "source_bucket": self.bucket,
                    "source_key": obj.key,
                    "source_etag": obj.etag,
                    "target_container": self.container,
                    "target_name": obj.target_name,
                    "size_bytes": obj.size,
                }
            )
            if len(batch) >= BATCH:
                self._upsert(batch)
                batch = []
        if batch:
            self._upsert(batch)

    def _upsert(self, rows: list[dict[str, Any]]) -> None:
        stmt = insert(T).values(rows)
        new = stmt.excluded
        unchanged = and_(
            T.c.size_bytes == new.size_bytes,
            T.c.source_etag.is_not_distinct_from(new.source_etag),
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[T.c.source_bucket, T.c.source_key, T.c.target_container],
            set_={
                "size_bytes": new.size_bytes,
                "source_etag": new.source_etag,
                "status": case((T.c.status == "copying", "copying"), else_="pending"),
                "updated_at": func.now(),
            },
            where=~and_(T.c.status == "verified", unchanged),
        )
        with self.engine.begin() as conn:
            conn.execute(stmt)

    def known(self, keys: Sequence[str]) -> dict[str, tuple[str, int, str | None]]:
        """status, size and etag of the given keys that have rows."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(T.c.source_key, T.c.status, T.c.size_bytes, T.c.source_etag).where(
                    self._mine(), T.c.source_key.in_(list(keys))
                )
            )
            return {r.source_key: (r.status, r.size_bytes, r.source_etag) for r in rows}

    def todo(self) -> Iterator[TodoObject]:
        """Rows not verified yet, in id order (keyset pages, so updates don't disturb it)."""
        last = 0
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    select(
                        T.c.id,
                        T.c.source_key,
                        T.c.target_name,
                        T.c.size_bytes,
                        T.c.status,
                        T.c.attempts,
                    )
                    .where(self._mine(), T.c.status != "verified", T.c.id > last)
                    .order_by(T.c.id)
                    .limit(BATCH)
                ).all()
            if not rows:
                return
            for r in rows:
                yield TodoObject(
                    r.id, r.source_key, r.target_name, r.size_bytes, r.status, r.attempts
                )
            last = rows[-1].id

    def claim(self, row_ids: Sequence[int]) -> None:
        """Mark rows `copying` (attempts + 1) in one transaction, before any copy starts."""
        with self.engine.begin() as conn:
            conn.execute(
                update(T)
                .where(T.c.id.in_(list(row_ids)))
                .values(
                    status="copying", attempts=T.c.attempts + 1, error=None, updated_at=func.now()
                )
            )

    def mark_copying(self, row_id: int) -> None:
        self.claim([row_id])

    def mark_verified(
        self,
        row_id: int,
        *,
        sha256: str,
        size: int,
        content_type: str | None,
        renames: dict[str, object] | None,
        copied: bool,
    ) -> None:
        self._set(
            row_id,
            status="verified",
            sha256=sha256,
            size_bytes=size,
            content_type=content_type,
            metadata_key_renames=renames,
            copies=T.c.copies + (1 if copied else 0),
            verified_at=func.now(),
            error=None,
        )

    def mark_failed(self, row_id: int, error: str) -> None:
        self._set(row_id, status="failed", error=error[:2000])

    def _set(self, row_id: int, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(T).where(T.c.id == row_id).values(updated_at=func.now(), **values))

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(T.c.status, func.count()).where(self._mine()).group_by(T.c.status)
            )
            return {status: int(n) for status, n in rows}

    def verified_targets(self, keys: Sequence[str]) -> dict[str, str]:
        """source key -> target name, for the given keys whose copy is verified."""
        if not keys:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(T.c.source_key, T.c.target_name).where(
                    self._mine(), T.c.status == "verified", T.c.source_key.in_(list(keys))
                )
            )
            return {r.source_key: r.target_name for r in rows}
