"""Pure parts of reading the audit trail: times and filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crownsafe.audit_query import AuditQuery, parse_when

NOW = datetime(2026, 12, 7, 21, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "ago"),
    [("90s", timedelta(seconds=90)), ("15m", timedelta(minutes=15)),
     ("2h", timedelta(hours=2)), ("7d", timedelta(days=7)), (" 3 h ", timedelta(hours=3))],
)  # fmt: skip
def test_an_age_counts_back_from_now(text: str, ago: timedelta) -> None:
    assert parse_when(text, now=NOW) == NOW - ago


def test_an_iso_time_without_a_zone_is_utc() -> None:
    assert parse_when("2026-12-07T20:15:00") == datetime(2026, 12, 7, 20, 15, tzinfo=UTC)
    assert parse_when("2026-12-07T20:15:00+01:00").utcoffset() == timedelta(hours=1)


@pytest.mark.parametrize("text", ["", "yesterday", "15 minutes", "-2h", "2w"])
def test_anything_else_says_which_forms_it_takes(text: str) -> None:
    with pytest.raises(ValueError, match=r"ISO 8601 .* or an age \(90s, 15m, 2h, 7d\)"):
        parse_when(text, now=NOW)


def test_an_operation_that_is_not_audited_is_named() -> None:
    with pytest.raises(ValueError, match="'peek' is not audited; one of upload, download"):
        AuditQuery(operation="peek")
    with pytest.raises(ValueError, match="limit must be 1 or more"):
        AuditQuery(limit=0)
