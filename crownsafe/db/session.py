"""Engine and sessions from DATABASE_URL, always through psycopg 3.

`postgres://`, `postgresql://` and `postgresql+psycopg2://` URLs are rewritten to
`postgresql+psycopg://` so one driver is used everywhere (psycopg2 is not installed).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from crownsafe.errors import ConfigError

__all__ = [
    "DatabaseConfigError",
    "database_url_from_env",
    "describe_database_error",
    "make_engine",
    "make_session_factory",
    "normalize_database_url",
    "session_scope",
]

DRIVER = "postgresql+psycopg"


class DatabaseConfigError(ConfigError, RuntimeError):
    """DATABASE_URL is missing or not a PostgreSQL URL; the message says what to set."""


def normalize_database_url(url: str) -> str:
    """Return `url` as a `postgresql+psycopg://` SQLAlchemy URL (password kept)."""
    raw = url.strip()
    if raw.startswith("postgres://"):
        raw = "postgresql://" + raw[len("postgres://") :]
    try:
        parsed = make_url(raw)
    except ArgumentError:
        raise DatabaseConfigError(
            "DATABASE_URL is not a valid URL; set it to "
            "postgresql+psycopg://user[:password]@host:port/dbname"
        ) from None
    if parsed.get_backend_name() != "postgresql":
        raise DatabaseConfigError(
            f"DATABASE_URL uses {parsed.get_backend_name()!r}; crownsafe needs PostgreSQL "
            "(postgresql+psycopg://user@host:port/dbname)"
        )
    return parsed.set(drivername=DRIVER).render_as_string(hide_password=False)


def database_url_from_env(environ: Mapping[str, str] | None = None) -> str:
    """DATABASE_URL from the environment, normalized; a clear error when it is missing."""
    env = os.environ if environ is None else environ
    raw = env.get("DATABASE_URL", "").strip()
    if not raw:
        raise DatabaseConfigError(
            "DATABASE_URL is not set; export DATABASE_URL="
            "postgresql+psycopg://user@host:5432/dbname (see .env.example)"
        )
    return normalize_database_url(raw)


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """An Engine for `url` (default: DATABASE_URL) with pre-ping on."""
    target = normalize_database_url(url) if url else database_url_from_env()
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(target, **kwargs)


def describe_database_error(exc: SQLAlchemyError, url: str | None = None) -> str:
    """What a command says when the database failed: where, the server's reason, the fix.

    An `OperationalError` (no server, wrong role, password or database name) names the
    server and user of `url` (never the password) and the driver's first line; other
    errors keep their own message without SQLAlchemy's "Background on this error" link.
    """
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    reason = reason.removeprefix("connection failed: ")
    if not isinstance(exc, OperationalError):
        return f"database error: {reason}"
    where = "the database"
    if url:
        parsed = make_url(normalize_database_url(url))
        where = (
            f"PostgreSQL at {parsed.host or 'localhost'}:{parsed.port or 5432}, database "
            f"{parsed.database!r} as {parsed.username!r}"
        )
    return (
        f"cannot use {where}: {reason}. Fix: point DATABASE_URL at a running PostgreSQL "
        "where that role and database exist (`crownsafe-harness services up --services "
        "postgres` starts one and prints its DATABASE_URL)"
    )


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with factory() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
