"""harness.services.unguarded_app: the app with every rate limit off and a silent audit trail
(the reference side of the security-guards benchmark)."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, Table, create_engine, insert, select
from sqlalchemy.orm import sessionmaker

from crownsafe.api.ratelimit import RULES, build_rate_limiter
from crownsafe.audit import AuditEvent, AuditTrail
from crownsafe.config import load_settings
from harness.services.unguarded_app import RATE_LIMITS_OFF, SilentAuditTrail, UnguardedAppService

EVENT = AuditEvent(
    operation="upload", outcome="ok", blob_name="uploads/1/a.jpg", user_id=1, client_ip=None
)


def _database() -> tuple[Engine, Table]:
    """An in-memory SQLite database with a `jobs` table and no `blob_audit_log`: any audit
    row written there fails."""
    engine = create_engine("sqlite://")
    jobs = Table("jobs", MetaData(), Column("id", Integer, primary_key=True))
    jobs.metadata.create_all(engine)
    return engine, jobs


def test_rate_limits_off_turns_every_rule_of_the_limiter_off() -> None:
    """A limit the app adds later and this list forgets would count on the "off" side."""
    settings = load_settings({**RATE_LIMITS_OFF, "RATE_LIMIT_STORAGE": "memory"})
    limiter = build_rate_limiter(settings)
    assert {rule: limiter.policy(rule) for rule in RULES} == dict.fromkeys(RULES)


def test_the_shipped_limits_are_on_by_default() -> None:
    """The check above can fail: without RATE_LIMITS_OFF the limiter counts."""
    limiter = build_rate_limiter(load_settings({"RATE_LIMIT_STORAGE": "memory"}))
    assert all(limiter.policy(rule) is not None for rule in RULES)


def test_a_write_keeps_its_own_rows_and_writes_no_audit_row(
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine, jobs = _database()
    trail = SilentAuditTrail(sessionmaker(engine))
    audit_log = caplog.at_level(logging.INFO, logger="crownsafe.audit")
    with audit_log, trail.writing(engine, EVENT) as connection:
        connection.execute(insert(jobs).values(id=7))
    with engine.connect() as connection:
        assert connection.execute(select(jobs.c.id)).scalars().all() == [7]
    assert not [r for r in caplog.records if r.name == "crownsafe.audit"]


def test_reads_and_session_writes_record_nothing(caplog: pytest.LogCaptureFixture) -> None:
    engine, _ = _database()
    sessions = sessionmaker(engine)
    with caplog.at_level(logging.INFO, logger="crownsafe.audit"):
        assert SilentAuditTrail(sessions).record(EVENT) is True
        with sessions() as session:
            SilentAuditTrail(sessions).add(session, EVENT)
            assert not session.new
    assert not [r for r in caplog.records if r.name == "crownsafe.audit"]


def test_the_real_trail_would_have_written_there() -> None:
    """The tests above can fail: the shipped trail tries the row (no table: not written)."""
    engine, _ = _database()
    assert AuditTrail(sessionmaker(engine)).record(EVENT) is False


def test_the_service_serves_the_factory_with_every_limit_off() -> None:
    service = UnguardedAppService(
        settings_env={"RATE_LIMIT_SHARES": "60/minute", "DATABASE_URL": "postgresql://x"}
    )
    argv = service._argv(8123)
    assert argv[argv.index("--factory") + 1] == "harness.services.unguarded_app:app_from_env"
    env = service._process_env()
    assert env["DATABASE_URL"] == "postgresql://x"
    assert {name: env[name] for name in RATE_LIMITS_OFF} == RATE_LIMITS_OFF
