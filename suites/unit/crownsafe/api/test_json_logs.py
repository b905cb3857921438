"""LOG_FORMAT: JSON lines (one object per record, secrets redacted) or text, chosen by the
setting, JSON by default off a terminal; `configure_logging` installs the chosen one."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from crownsafe.api._logging import configure_logging, resolve_log_format
from crownsafe.config import load_settings
from crownsafe.correlation import correlation_scope
from crownsafe.errors import ApiConfigError
from crownsafe.jsonlog import JsonFormatter
from crownsafe.redaction import MARKER

SAS = "https://acct.blob.core.windows.net/c/b?sv=2024&sig=SECRETSIGNATURE123&se=x"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def root_restored() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def lines_of(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_line_has_the_standard_fields_and_the_extras(root_restored: None) -> None:
    stream = io.StringIO()
    configure_logging(stream=stream, fmt="json")
    with correlation_scope("cid-123"):
        logging.getLogger("crownsafe.test").info(
            "stored %s", "a/b.jpg", extra={"blob_name": "a/b.jpg", "size_bytes": 12}
        )
    (line,) = lines_of(stream)
    assert line["level"] == "INFO"
    assert line["logger"] == "crownsafe.test"
    assert line["message"] == "stored a/b.jpg"
    assert line["correlation_id"] == "cid-123"
    assert line["blob_name"] == "a/b.jpg" and line["size_bytes"] == 12
    assert line["timestamp"].endswith("+00:00")


def test_secrets_never_reach_a_json_line(root_restored: None) -> None:
    stream = io.StringIO()
    configure_logging(stream=stream, fmt="json")
    log = logging.getLogger("crownsafe.test")
    try:
        raise RuntimeError(f"GET {SAS} failed")
    except RuntimeError:
        log.exception("request to %s failed", SAS, extra={"url": SAS, "parts": [SAS]})
    text = stream.getvalue()
    assert "SECRETSIGNATURE123" not in text
    (line,) = lines_of(stream)
    assert f"sig={MARKER}" in line["message"]
    assert f"sig={MARKER}" in line["url"]
    assert f"sig={MARKER}" in line["exception"] and "RuntimeError" in line["exception"]


def test_extras_never_replace_the_standard_fields() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    record.level = "forged"
    record.color_message = "\x1b[1mhello\x1b[0m"
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "INFO"
    assert "color_message" not in line


def test_non_finite_numbers_still_make_valid_json() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None)
    record.ratio = float("nan")
    line = JsonFormatter().format(record)
    assert json.loads(line)["ratio"] == "nan"


def test_text_format_keeps_the_old_line(root_restored: None) -> None:
    stream = io.StringIO()
    configure_logging(stream=stream, fmt="text")
    logging.getLogger("crownsafe.test").info("hello")
    assert " INFO crownsafe.test [cid=-] hello" in stream.getvalue()
    with pytest.raises(json.JSONDecodeError):
        json.loads(stream.getvalue())


@pytest.mark.parametrize(
    ("setting", "stream", "expected"),
    [
        ("", io.StringIO(), "json"),
        ("", Terminal(), "text"),
        ("json", Terminal(), "json"),
        ("TEXT", io.StringIO(), "text"),
    ],
)
def test_the_format_json_off_a_terminal_unless_set(
    setting: str, stream: io.StringIO, expected: str
) -> None:
    assert resolve_log_format(setting, stream) == expected


def test_an_unknown_log_format_is_refused_at_load_time() -> None:
    with pytest.raises(ApiConfigError, match="LOG_FORMAT='xml'") as raised:
        load_settings({"LOG_FORMAT": "xml"})
    assert "json" in (raised.value.hint or "")
    assert load_settings({"LOG_FORMAT": "Json"}).log_format == "json"
