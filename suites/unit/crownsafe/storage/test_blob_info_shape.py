"""The BlobInfo normalisers both adapters use for list and head results."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from dateutil.tz import tzlocal, tzutc

from crownsafe.storage.base import normalize_etag, utc_timestamp


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0x8DDE1", '"0x8DDE1"'),
        ('"0x8DDE1"', '"0x8DDE1"'),
        ('"d41d8cd98f00b204e9800998ecf8427e-3"', '"d41d8cd98f00b204e9800998ecf8427e-3"'),
        ('W/"weak"', 'W/"weak"'),
        ("", None),
        (None, None),
    ],
)
def test_etags_come_out_quoted(raw: str | None, expected: str | None) -> None:
    assert normalize_etag(raw) == expected


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 12, 1, 11, 1, 43, 250_000, tzinfo=tzlocal()),
        datetime(2026, 12, 1, 11, 1, 43, tzinfo=tzutc()),
        datetime(2026, 12, 1, 12, 1, 43, tzinfo=timezone(timedelta(hours=1))),
        datetime(2026, 12, 1, 11, 1, 43, 999_999),
    ],
)
def test_timestamps_become_aware_utc_whole_seconds(value: datetime) -> None:
    result = utc_timestamp(value)
    assert result is not None and result.tzinfo is UTC and result.microsecond == 0
    expected = datetime(2026, 12, 1, 11, 1, 43, tzinfo=UTC)
    if not isinstance(value.tzinfo, tzlocal):
        assert result == expected
    assert utc_timestamp(None) is None
