"""Local helpers for the migration suite.

PostgreSQL, Alembic and storage fixtures come from the harness plugin
(harness/fixtures/database.py, harness/fixtures/storage.py). `alembic_config` and
`alembic_engine` are re-exported here so pytest-alembic's defaults of the same names can
never win over them, whatever order the plugins load in. `migration_summary` merges each
test's results into the run folder's `migration.json` (under a file lock, so xdist
workers can share it).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

from harness.fixtures.database import alembic_config, alembic_engine
from harness.runfolder import update_file
from harness.runfolder.migration import MigrationFile

__all__ = ["MigrationSummary", "alembic_config", "alembic_engine", "connect"]

REPO_ROOT = Path(__file__).resolve().parents[2]


def libpq_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def connect(url: str, **kwargs: Any) -> Iterator[psycopg.Connection[Any]]:
    """A psycopg connection to a SQLAlchemy URL."""
    with psycopg.connect(libpq_url(url), **kwargs) as conn:
        yield conn


class MigrationSummary:
    """Sections of `migration.json`, written as soon as each test records them."""

    def __init__(self, run_dir: Path, mode: str) -> None:
        self.run_dir, self.mode = run_dir, mode

    def record(self, section: str, data: dict[str, Any]) -> None:
        def change(current: MigrationFile | None) -> MigrationFile:
            sections = {**(current.sections if current else {}), section: data}
            return MigrationFile(postgres_provision=self.mode, sections=sections)

        update_file(self.run_dir, MigrationFile, change)


@pytest.fixture(scope="session")
def migration_summary(request: pytest.FixtureRequest, run_dir: Path) -> MigrationSummary:
    mode = str(request.config.getoption("--provision", default="local"))
    return MigrationSummary(run_dir, mode)
