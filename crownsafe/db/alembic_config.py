"""An Alembic `Config` for crownsafe's migrations, usable from code (tests, tools).

Uses the repository's `alembic.ini` when it sits next to the package (a checkout or an
editable install); otherwise builds the config from the packaged migrations folder.
"""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config

__all__ = ["MIGRATIONS_DIR", "make_alembic_config"]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_REPO_INI = Path(__file__).resolve().parents[2] / "alembic.ini"


def make_alembic_config(
    database_url: str | None = None,
    *,
    lock_timeout: str | None = None,
    configure_logger: bool = False,
) -> Config:
    """Config pointing at crownsafe's migrations; `database_url` overrides DATABASE_URL."""
    config = Config(str(_REPO_INI)) if _REPO_INI.is_file() else Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if database_url:
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes["configure_logger"] = configure_logger
    if lock_timeout:
        config.attributes["lock_timeout"] = lock_timeout
    return config
