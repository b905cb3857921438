"""Retry-After in every form both services send: ms headers, delta seconds, HTTP dates."""

from __future__ import annotations

from datetime import UTC, datetime

from crownsafe.storage.retry_after import parse_retry_after

NOW = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)


def at_now() -> datetime:
    return NOW


def test_millisecond_headers_win_and_are_converted() -> None:
    assert parse_retry_after({"x-ms-retry-after-ms": "250", "Retry-After": "9"}) == 0.25
    assert parse_retry_after({"Retry-After-Ms": "100"}) == 0.1
    assert parse_retry_after({"x-ms-retry-after-ms": "-5"}) == 0.0


def test_a_bad_millisecond_header_falls_back_to_retry_after() -> None:
    assert parse_retry_after({"x-ms-retry-after-ms": "soon", "Retry-After": "2"}) == 2.0


def test_delta_seconds() -> None:
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"Retry-After": " 1.5 "}) == 1.5
    assert parse_retry_after({"Retry-After": "-4"}) == 0.0


def test_http_dates_are_measured_from_the_injected_clock() -> None:
    assert parse_retry_after({"Retry-After": "Tue, 01 Jan 2030 12:00:10 GMT"}, now=at_now) == 10.0
    assert parse_retry_after({"Retry-After": "Tue, 01 Jan 2030 11:00:00 GMT"}, now=at_now) == 0.0


def test_nothing_valid_means_none() -> None:
    for headers in ({}, {"Retry-After": "soon"}, {"Retry-After": "nan"}, {"Retry-After": ""}):
        assert parse_retry_after(headers) is None
