"""The Crown Safe app without its guards: every rate limit off and no audit trail.

What the security guards cost is measured against this app (issue 21: rate limiting plus
auditing add at most 1 ms to a small request's p50 and 3% to a 10 MB upload's time;
`benchmarks/test_bench_security.py`). It is the real app, built by
`crownsafe.api.app.create_app` from the same settings and served by uvicorn the same way
(`UnguardedAppService` is an `AppService` with another target), with two differences:

- every rate limit is `off` (`RATE_LIMITS_OFF`, set in its environment);
- its `ApiState.audit` is a `SilentAuditTrail`, which writes no `blob_audit_log` row and
  logs no `crownsafe.audit` line. The routes still build their audit events (a few
  attribute copies) and the upload's job row is still written in its own transaction.

Test-only on purpose: the product has no setting that turns the audit trail off, and must
not have one (an operator could switch off the trail an incident needs).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from crownsafe.api._logging import configure_logging
from crownsafe.api.app import create_app
from crownsafe.api.state import ApiState
from crownsafe.audit import AuditEvent, AuditTrail
from crownsafe.config import load_settings
from harness.services.app import AppService

__all__ = ["RATE_LIMITS_OFF", "SilentAuditTrail", "UnguardedAppService", "app_from_env"]

RATE_LIMITS_OFF = {
    "RATE_LIMIT_UPLOADS": "off",
    "RATE_LIMIT_SHARES": "off",
    "RATE_LIMIT_UNAUTHENTICATED": "off",
    "UPLOAD_BYTES_PER_HOUR": "off",
    "API_REQUESTS_PER_MINUTE": "off",
}
"""Every rate limit the app knows, off (a variable the app does not know yet is ignored)."""


class SilentAuditTrail(AuditTrail):
    """An audit trail that records nothing: no row, no log line. Writes keep their own
    transaction (`writing` still yields one), so their other rows are written as before."""

    def add(self, session: Session, audit: AuditEvent) -> None:
        pass

    @contextmanager
    def writing(self, engine: Engine, *audits: AuditEvent) -> Iterator[Connection]:
        with engine.begin() as connection:
            yield connection

    def record(self, audit: AuditEvent) -> bool:
        return True


def silence_audit(app: FastAPI) -> FastAPI:
    """`app` (built by `create_app`) with its audit trail replaced by a silent one."""
    state: ApiState = app.state.api
    state.audit = SilentAuditTrail(state.sessions)
    return app


def app_from_env() -> FastAPI:
    """As `crownsafe.api.main.app_from_env`, with the audit trail silenced (uvicorn
    `--factory harness.services.unguarded_app:app_from_env`)."""
    settings = load_settings()
    configure_logging(fmt=settings.log_format)
    return silence_audit(create_app(settings))


class UnguardedAppService(AppService):
    """uvicorn serving `app_from_env` above with `RATE_LIMITS_OFF` over `settings_env`,
    started exactly as `AppService` starts the shipped app (a local process only)."""

    name = "unguarded-app"
    target = ("--factory", "harness.services.unguarded_app:app_from_env")

    def __init__(
        self, *, settings_env: Mapping[str, str] | None = None, log_dir: Path | None = None
    ) -> None:
        env = {**(settings_env or {}), **RATE_LIMITS_OFF}
        super().__init__("local", settings_env=env, log_dir=log_dir)
