"""The audit trail of blob operations: one database row and one JSON log line each.

Every blob operation of the API (upload, delete, SAS issued, share created / resolved /
revoked, report generated) records who did it (`user_id`, `client_ip`), to which blob,
how it ended (`ok`, `refused`, `failed`), its size, backend and container, and the
request's correlation id. The row goes to `blob_audit_log`, which the database keeps
append-only (the revision's triggers refuse UPDATE, DELETE and TRUNCATE); the line goes to
the `crownsafe.audit` logger, with the same fields as extras (JSON under LOG_FORMAT=json).

What happens when the row cannot be written is decided by the kind of operation:

- a **write** (upload, delete, share created or revoked, report generated) adds its row in
  the same transaction as the operation's own rows (`AuditTrail.add`): no audit row, no
  operation. The route then undoes what it stored and answers 503;
- a **read** (SAS issued, share resolved, download, a cut-over fallback read) goes on
  when its row cannot be written (`AuditTrail.record`): the line is still logged, with
  `audit_row: false`, at WARNING, and `on_write_failure` counts it (the API's
  `crownsafe_audit_write_failures_total`). Refusing a read because the trail is down would
  turn a database hiccup into an outage for every reader.

The log line of a row added inside a transaction is written when that transaction commits
(nothing is logged for an operation that was rolled back).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, event, insert, text
from sqlalchemy.orm import Session, sessionmaker

from crownsafe.correlation import get_correlation_id
from crownsafe.db.models import AuditOperation, AuditOutcome, BlobAuditLog

__all__ = [
    "READ_OPERATIONS",
    "WRITE_OPERATIONS",
    "AuditEvent",
    "AuditTrail",
    "Operation",
    "Outcome",
]

log = logging.getLogger("crownsafe.audit")

Operation = AuditOperation
Outcome = AuditOutcome

WRITE_OPERATIONS: frozenset[str] = frozenset(
    {"upload", "delete", "share_created", "share_revoked", "report_generated"}
)
"""Refused when their row cannot be written (the row shares the operation's transaction)."""
READ_OPERATIONS: frozenset[str] = frozenset(
    {"download", "sas_issued", "share_resolved", "fallback_read"}
)
"""Go on when their row cannot be written (logged, counted)."""

_PENDING = "crownsafe.audit.pending"
_INSERT = insert(BlobAuditLog)
_NO_FLUSH_WAIT = text("SET LOCAL synchronous_commit TO OFF")


@dataclass(frozen=True)
class AuditEvent:
    """One blob operation as the trail records it (the seed's fields and ours)."""

    operation: Operation
    outcome: Outcome
    blob_name: str | None
    user_id: int | None
    client_ip: str | None
    container: str | None = None
    backend: str | None = None
    size_bytes: int | None = None
    detail: Mapping[str, Any] | None = None
    correlation_id: str | None = field(default_factory=get_correlation_id)

    def values(self) -> dict[str, Any]:
        """The row's columns."""
        return {
            "operation": self.operation,
            "outcome": self.outcome,
            "blob_name": self.blob_name,
            "container": self.container,
            "backend": self.backend,
            "user_id": self.user_id,
            "client_ip": self.client_ip,
            "correlation_id": self.correlation_id,
            "size_bytes": self.size_bytes,
            "detail": dict(self.detail) if self.detail else None,
        }

    def row(self) -> BlobAuditLog:
        return BlobAuditLog(**self.values())


def _emit(audit: AuditEvent, *, row_written: bool) -> None:
    fields = {k: v for k, v in asdict(audit).items() if k != "correlation_id"}
    level = logging.INFO if row_written else logging.WARNING
    log.log(level, "blob %s %s", audit.operation, audit.outcome,
            extra={**fields, "audit_row": row_written})  # fmt: skip


@event.listens_for(Session, "after_commit")
def _log_committed(session: Session) -> None:
    for audit in session.info.pop(_PENDING, ()):
        _emit(audit, row_written=True)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous_transaction: object) -> None:
    session.info.pop(_PENDING, None)


class AuditTrail:
    """Writes audit events; `on_write_failure(operation)` is called when a read's row is lost."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        on_write_failure: Callable[[str], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._on_write_failure = on_write_failure

    def add(self, session: Session, audit: AuditEvent) -> None:
        """Add `audit`'s row to `session`'s transaction; its line is logged on commit.

        For writes: if the row cannot be written, the transaction fails and with it the
        operation."""
        session.add(audit.row())
        session.info.setdefault(_PENDING, []).append(audit)

    @contextmanager
    def writing(self, engine: Engine, *audits: AuditEvent) -> Iterator[Connection]:
        """A transaction on `engine` (SQLAlchemy Core, no ORM unit of work) that inserts
        `audits`' rows after the block's own statements; their lines are logged once it
        has committed. The write path of a hot route (an upload's job row)."""
        with engine.begin() as connection:
            yield connection
            connection.execute(_INSERT, [a.values() for a in audits])
        for audit in audits:
            _emit(audit, row_written=True)

    def record(self, audit: AuditEvent) -> bool:
        """Write `audit`'s row in a transaction of its own; False (logged at WARNING, and
        counted) when it cannot be written. For reads and refusals, which go on.

        One Core INSERT (no ORM unit of work), committed without waiting for the WAL flush
        (`SET LOCAL synchronous_commit TO OFF`): the read does not wait for a disk sync.
        A PostgreSQL crash may lose the last fraction of a second of such rows (their log
        lines stay); a write's row is in the write's own transaction, which waits."""
        try:
            with self._engine().begin() as connection:
                connection.execute(_NO_FLUSH_WAIT)
                connection.execute(_INSERT, [audit.values()])
        except Exception as exc:
            log.warning(
                "audit row of %s on %r not written (%s); the operation went on",
                audit.operation,
                audit.blob_name,
                type(exc).__name__,
            )
            _emit(audit, row_written=False)
            if self._on_write_failure is not None:
                self._on_write_failure(audit.operation)
            return False
        _emit(audit, row_written=True)
        return True

    def _engine(self) -> Engine:
        bind = self._sessions.kw.get("bind")
        if not isinstance(bind, Engine):
            raise RuntimeError("the audit trail's sessionmaker is not bound to an engine")
        return bind
