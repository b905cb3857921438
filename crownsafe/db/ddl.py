"""Helpers the Alembic revisions share: a short, configurable lock_timeout for DDL.

A DDL statement waits for an ACCESS EXCLUSIVE lock; while it waits, every new reader of
the table queues behind it, so one long transaction could stall the whole API. With a
short `lock_timeout` the migration fails fast instead (SQLSTATE 55P03) and can be
retried. `SET LOCAL` lasts until the migration's transaction ends, so it covers every
statement of the revision.

The timeout comes from, in order: `config.attributes["lock_timeout"]` (tests),
`alembic -x lock_timeout=500ms`, the CROWNSAFE_MIGRATION_LOCK_TIMEOUT environment
variable, else DEFAULT_LOCK_TIMEOUT.
"""

from __future__ import annotations

import os
import re

from alembic import context, op

__all__ = ["DEFAULT_LOCK_TIMEOUT", "LOCK_TIMEOUT_ENV", "lock_timeout", "set_lock_timeout"]

DEFAULT_LOCK_TIMEOUT = "3s"
LOCK_TIMEOUT_ENV = "CROWNSAFE_MIGRATION_LOCK_TIMEOUT"
_VALID = re.compile(r"^\d+(us|ms|s|min)?$")


def lock_timeout() -> str:
    """The configured lock timeout, validated (a PostgreSQL duration like 500ms or 3s)."""
    value = str(context.config.attributes.get("lock_timeout") or "")
    if not value:
        value = context.get_x_argument(as_dictionary=True).get("lock_timeout", "")
    value = (value or os.environ.get(LOCK_TIMEOUT_ENV, "") or DEFAULT_LOCK_TIMEOUT).strip()
    if not _VALID.match(value):
        raise ValueError(
            f"lock_timeout {value!r} is not a duration; use e.g. 500ms, 3s or 1min "
            f"(-x lock_timeout=... or {LOCK_TIMEOUT_ENV})"
        )
    return value


def set_lock_timeout() -> None:
    """`SET LOCAL lock_timeout` for the rest of the current migration transaction."""
    op.execute(f"SET LOCAL lock_timeout = '{lock_timeout()}'")
