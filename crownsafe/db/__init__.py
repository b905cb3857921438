"""Crown Safe's PostgreSQL schema: models, sessions and the Alembic migrations."""

from crownsafe.db.models import Base, ContentSnapshot, ImageJob, ObjectMigration, ScanHistory
from crownsafe.db.session import (
    DatabaseConfigError,
    database_url_from_env,
    make_engine,
    make_session_factory,
    normalize_database_url,
    session_scope,
)

metadata = Base.metadata
"""The MetaData of every crownsafe table (Alembic's target_metadata)."""

__all__ = [
    "Base",
    "ContentSnapshot",
    "DatabaseConfigError",
    "ImageJob",
    "ObjectMigration",
    "ScanHistory",
    "database_url_from_env",
    "make_engine",
    "make_session_factory",
    "metadata",
    "normalize_database_url",
    "session_scope",
]
