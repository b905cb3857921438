"""Reading the audit trail: `blob_audit_log` rows filtered by user, blob, operation and time.

Used by `crownsafe-harness audit` and by the tests that check a session's trail. Rows come
back oldest first (the order things happened), at most `limit` of them, the newest ones
when more match (a reviewer asks "what happened lately" far more often than "first").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crownsafe.db.models import AUDIT_OPERATIONS, BlobAuditLog

__all__ = ["AuditQuery", "find_audit_rows", "parse_when", "row_dict"]

_RELATIVE = re.compile(r"^(\d+)\s*(s|m|h|d)$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_when(text: str, *, now: datetime | None = None) -> datetime:
    """An ISO 8601 time (UTC when it has no zone) or an age: `90s`, `15m`, `2h`, `7d` ago.

    Raises ValueError saying which forms it takes."""
    value = text.strip()
    relative = _RELATIVE.match(value)
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2)
        return (now or datetime.now(UTC)) - timedelta(**{_UNITS[unit]: amount})
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a time: give ISO 8601 (2026-12-07T21:00:00Z) or an age "
            "(90s, 15m, 2h, 7d)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class AuditQuery:
    """Filters; None means any. `blob_name` matches exactly, or as a prefix ending in `*`."""

    user_id: int | None = None
    blob_name: str | None = None
    operation: str | None = None
    outcome: str | None = None
    correlation_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100

    def __post_init__(self) -> None:
        if self.operation is not None and self.operation not in AUDIT_OPERATIONS:
            raise ValueError(
                f"operation {self.operation!r} is not audited; one of {', '.join(AUDIT_OPERATIONS)}"
            )
        if self.limit < 1:
            raise ValueError("limit must be 1 or more")


def find_audit_rows(session: Session, query: AuditQuery) -> list[BlobAuditLog]:
    """The matching rows, oldest first (the newest `limit` of them)."""
    statement = select(BlobAuditLog)
    if query.user_id is not None:
        statement = statement.where(BlobAuditLog.user_id == query.user_id)
    if query.blob_name is not None:
        if query.blob_name.endswith("*"):
            prefix = query.blob_name[:-1].replace("\\", "\\\\").replace("%", r"\%")
            statement = statement.where(
                BlobAuditLog.blob_name.like(prefix.replace("_", r"\_") + "%", escape="\\")
            )
        else:
            statement = statement.where(BlobAuditLog.blob_name == query.blob_name)
    if query.operation is not None:
        statement = statement.where(BlobAuditLog.operation == query.operation)
    if query.outcome is not None:
        statement = statement.where(BlobAuditLog.outcome == query.outcome)
    if query.correlation_id is not None:
        statement = statement.where(BlobAuditLog.correlation_id == query.correlation_id)
    if query.since is not None:
        statement = statement.where(BlobAuditLog.occurred_at >= query.since)
    if query.until is not None:
        statement = statement.where(BlobAuditLog.occurred_at < query.until)
    newest = statement.order_by(BlobAuditLog.id.desc()).limit(query.limit)
    return list(reversed(session.scalars(newest).all()))


def row_dict(row: BlobAuditLog) -> dict[str, Any]:
    """One row as JSON-ready fields (the time in ISO 8601, UTC)."""
    return {
        "id": row.id,
        "occurred_at": row.occurred_at.astimezone(UTC).isoformat(),
        "operation": row.operation,
        "outcome": row.outcome,
        "blob_name": row.blob_name,
        "container": row.container,
        "backend": row.backend,
        "user_id": row.user_id,
        "client_ip": row.client_ip,
        "correlation_id": row.correlation_id,
        "size_bytes": row.size_bytes,
        "detail": row.detail,
    }
