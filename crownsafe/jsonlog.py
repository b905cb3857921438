"""JSON log lines (LOG_FORMAT=json): one object per record, for a log pipeline to index.

A line holds `timestamp` (UTC, ISO 8601, milliseconds), `level`, `logger`, `message`,
`correlation_id`, then every extra field the call passed (``extra={...}``: the storage
operation line's `blob_name`, `size_bytes`, `duration_seconds`, ...), then `exception` /
`stack` when present. An extra never replaces one of the first five.

Secrets: every string that reaches a line (the message, each string extra, the traceback)
goes through `crownsafe.redaction.redact` here, so a field added later by any logger is
covered too, not only the message the handler's filter already rewrote.

Written on the standard library (`json.dumps` in a `logging.Formatter`): python-json-logger
is not among the project's pinned dependencies, and the few lines below are all the format
needs (no dependency to pin, audit and keep in step with `logging`'s record attributes).
"""

from __future__ import annotations

import json
import logging
import math
from datetime import UTC, datetime
from typing import Any

from crownsafe.redaction import redact

__all__ = ["JsonFormatter"]

_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "correlation_id",
    "color_message",  # uvicorn's ANSI-coloured copy of the message
}
"""Record attributes that are not extras (color_message: uvicorn's duplicate of `msg`)."""


def _clean(value: Any) -> Any:
    """A JSON-safe, redacted form of one extra value."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return redact(value)
    return redact(str(value))


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines inside values are escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "correlation_id": getattr(record, "correlation_id", None) or "-",
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_") and key not in line:
                line[key] = _clean(value)
        trace = self.formatException(record.exc_info) if record.exc_info else record.exc_text
        if trace:
            line["exception"] = redact(trace)
        if record.stack_info:
            line["stack"] = redact(self.formatStack(record.stack_info))
        return json.dumps(line, ensure_ascii=False, default=str)
