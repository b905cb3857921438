"""Database checks (Pre-Deployment Checklist step 2): PostgreSQL answers, and its schema is at the
Alembic head. The revisions are read with Alembic's own APIs (`MigrationContext` for the
database, `ScriptDirectory` for the code), so "at head" means what `alembic current` and
`alembic heads` would print; nothing is ever migrated from here."""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from crownsafe.db.alembic_config import make_alembic_config
from crownsafe.db.session import DatabaseConfigError, normalize_database_url
from harness.predeploy.context import Context
from harness.predeploy.model import Check, Outcome, failed, passed

__all__ = ["CHECKS"]

_CONNECT_HINT = "check DATABASE_URL (host, port, user, password, database) and that the server runs"


def _engine(ctx: Context) -> Engine:
    url = normalize_database_url(ctx.require_settings().database_url.get())
    timeout = max(1, int(ctx.options.http_timeout))
    return create_engine(url, poolclass=pool.NullPool, connect_args={"connect_timeout": timeout})


def _error(exc: SQLAlchemyError) -> str:
    cause = getattr(exc, "orig", None) or exc
    first_line = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
    return f"{type(cause).__name__}: {first_line}"


def _reachable(ctx: Context) -> Outcome:
    if not ctx.require_settings().database_url:
        return failed("DATABASE_URL is not set", "export DATABASE_URL=postgresql+psycopg://...")
    try:
        engine = _engine(ctx)
    except DatabaseConfigError as exc:
        return failed(str(exc).split(";")[0], "set DATABASE_URL to a PostgreSQL SQLAlchemy URL")
    try:
        with engine.connect() as connection:
            version = connection.execute(text("SHOW server_version")).scalar_one()
    except SQLAlchemyError as exc:
        return failed(f"cannot connect: {_error(exc)}", _CONNECT_HINT)
    finally:
        engine.dispose()
    return passed(f"connected; PostgreSQL {str(version).split()[0]}")


def _short(revisions: tuple[str, ...] | list[str]) -> str:
    return ", ".join(sorted(revisions)) or "none (no alembic_version table: an empty database)"


def _known(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except CommandError:
        return False


def _at_head(ctx: Context) -> Outcome:
    script = ScriptDirectory.from_config(make_alembic_config())
    heads = tuple(script.get_heads())
    engine = _engine(ctx)
    try:
        with engine.connect() as connection:
            current = tuple(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError as exc:
        return failed(f"cannot read the revision: {_error(exc)}", _CONNECT_HINT)
    finally:
        engine.dispose()
    if set(current) == set(heads):
        return passed(f"current {_short(current)} = head {_short(heads)}")
    unknown = [rev for rev in current if not _known(script, rev)]
    if unknown:
        return failed(
            f"current {_short(current)} is not a revision of this code (head {_short(heads)})",
            "the database was migrated by a newer release: deploy that release or downgrade",
        )
    behind = len(list(script.iterate_revisions(heads, current or "base")))
    return failed(
        f"current {_short(current)}, head {_short(heads)}: {behind} revision(s) behind",
        "run `alembic upgrade head` (with DATABASE_URL set) before deploying",
    )


CHECKS = (
    Check(
        "database.reachable",
        "PostgreSQL reachable (DATABASE_URL)",
        _reachable,
        needs=("config.settings-load",),
    ),
    Check(
        "database.at-head",
        "schema at the Alembic head",
        _at_head,
        needs=("database.reachable",),
    ),
)
