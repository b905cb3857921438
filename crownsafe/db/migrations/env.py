"""Alembic environment for crownsafe.

Where the database comes from, first match wins:
1. `config.attributes["connection"]`: an Engine or Connection handed in by code
   (pytest-alembic, the harness);
2. `sqlalchemy.url` set on the config (e.g. `Config.set_main_option`);
3. the DATABASE_URL environment variable (the normal CLI path).
Without any of them the command stops with a message saying what to export.

Each revision runs in its own transaction (`transaction_per_migration`), so ACCESS
EXCLUSIVE locks are held only for one revision; revisions set a short `lock_timeout`
(see crownsafe.db.ddl).
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection, Engine, create_engine, pool

from crownsafe.db.models import Base
from crownsafe.db.session import DatabaseConfigError, database_url_from_env, normalize_database_url

config = context.config
target_metadata = Base.metadata

if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _url() -> str:
    configured = config.get_main_option("sqlalchemy.url")
    if configured:
        return normalize_database_url(configured)
    try:
        return database_url_from_env()
    except DatabaseConfigError as exc:
        raise SystemExit(f"alembic: {exc}") from None


def _configure(**kwargs: object) -> None:
    context.configure(
        target_metadata=target_metadata,
        transaction_per_migration=True,
        compare_type=True,
        **kwargs,  # type: ignore[arg-type]
    )


def run_migrations_offline() -> None:
    _configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def _run_on(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    given = config.attributes.get("connection")
    if isinstance(given, Connection):
        _run_on(given)
        return
    engine: Engine = given if given is not None else create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        _run_on(connection)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
