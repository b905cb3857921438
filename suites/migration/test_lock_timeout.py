"""The rename migration gives up fast on a held lock, leaves nothing half-done, and a retry
succeeds once the competing transaction has ended.

The competitor is a real second session holding a table lock in an open transaction;
threads and events coordinate the two (no sleeps). Without a working lock_timeout the
upgrade would wait for the competitor, which only lets go after the upgrade returned: the
test would then hit its 60 s liveness bound and fail with that message.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from alembic import command
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, pool
from sqlalchemy.exc import OperationalError

from crownsafe.db.alembic_config import make_alembic_config

from .conftest import MigrationSummary, connect

pytestmark = pytest.mark.migration

S3_ERA, RENAME = "5e3a1c9d2f47", "b8c97058b7e6"
LIVENESS_S = 60.0


def _state(url: str) -> tuple[str | None, set[str]]:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            revision = MigrationContext.configure(conn).get_current_revision()
        inspector = inspect(engine)
        if not inspector.has_table("scan_history"):
            return revision, set()
        return revision, {c["name"] for c in inspector.get_columns("scan_history")}
    finally:
        engine.dispose()


class Competitor(threading.Thread):
    """Holds `LOCK TABLE <table> IN <mode> MODE` in an open transaction until released."""

    def __init__(self, url: str, table: str, mode: str) -> None:
        super().__init__(daemon=True)
        self.url, self.table, self.mode = url, table, mode
        self.locked, self.release = threading.Event(), threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with connect(self.url) as conn:
                conn.execute(f"LOCK TABLE {self.table} IN {self.mode} MODE")
                self.locked.set()
                self.release.wait(LIVENESS_S * 2)
                conn.rollback()
        except BaseException as exc:  # surfaced by the test
            self.error = exc
            self.locked.set()


def _upgrade_in_thread(config: Any, revision: str) -> tuple[threading.Event, dict[str, Any]]:
    done, outcome = threading.Event(), dict[str, Any]()

    def work() -> None:
        began = time.perf_counter()
        try:
            command.upgrade(config, revision)
        except BaseException as exc:
            outcome["error"] = exc
        outcome["seconds"] = time.perf_counter() - began
        done.set()

    threading.Thread(target=work, daemon=True).start()
    return done, outcome


@pytest.mark.parametrize(
    ("table", "mode"),
    [("scan_history", "ACCESS SHARE"), ("image_jobs", "ROW EXCLUSIVE")],
    ids=["reader-on-first-table", "writer-on-last-table"],
)
def test_upgrade_fails_fast_on_a_held_lock_and_retry_succeeds(
    database_url: str, table: str, mode: str, migration_summary: MigrationSummary
) -> None:
    """A competing lock makes the rename fail with 55P03 and roll back; a retry then works."""
    config = make_alembic_config(database_url, lock_timeout="300ms")
    command.upgrade(config, S3_ERA)
    competitor = Competitor(database_url, table, mode)
    competitor.start()
    assert competitor.locked.wait(30), "the competitor never took its lock"
    assert competitor.error is None, competitor.error

    done, outcome = _upgrade_in_thread(config, RENAME)
    finished = done.wait(LIVENESS_S)
    competitor.release.set()
    competitor.join(30)
    if not finished:
        done.wait(LIVENESS_S)
        pytest.fail(f"upgrade kept waiting for {mode} on {table}: lock_timeout not applied")

    error = outcome.get("error")
    assert isinstance(error, OperationalError), f"expected a lock timeout, got {error!r}"
    assert getattr(error.orig, "sqlstate", None) == "55P03", str(error.orig)
    revision, columns = _state(database_url)
    assert revision == S3_ERA, "the failed upgrade must leave the version where it was"
    assert "s3_url" in columns and "blob_url" not in columns, "DDL must be rolled back"

    began = time.perf_counter()
    command.upgrade(config, RENAME)
    retry_s = time.perf_counter() - began
    revision, columns = _state(database_url)
    assert revision == RENAME
    assert "blob_url" in columns and "s3_url" not in columns
    migration_summary.record(
        f"lock_timeout[{table}:{mode}]",
        {
            "lock_timeout": "300ms",
            "failed_with": "55P03 lock_not_available",
            "failed_after_s": round(outcome["seconds"], 3),
            "rolled_back": True,
            "retry_succeeded": True,
            "retry_s": round(retry_s, 3),
        },
    )


def test_lock_timeout_setting_is_validated(database_url: str) -> None:
    """A lock_timeout that is not a duration stops the migration before any SQL runs."""
    config = make_alembic_config(database_url, lock_timeout="1s'; DROP TABLE x; --")
    with pytest.raises(ValueError, match="not a duration"):
        command.upgrade(config, S3_ERA)
    assert _state(database_url)[0] is None
