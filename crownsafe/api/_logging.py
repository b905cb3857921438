"""Log lines with the correlation id, every message through `crownsafe.redaction.redact`.

Two formats (LOG_FORMAT): `json`, one JSON object per line (`crownsafe.jsonlog`: what a
log pipeline indexes; the storage layer's one line per operation carries its fields), and
`text`, the line below for a person. Unset, a stream that is a terminal gets text and
anything else (a service's stderr going to journald, a container runtime or a file) gets
JSON, so the service logs JSON by default and a developer's terminal stays readable.
"""

from __future__ import annotations

import logging
from typing import Literal, TextIO

from crownsafe.correlation import get_correlation_id
from crownsafe.jsonlog import JsonFormatter
from crownsafe.redaction import redact

__all__ = [
    "LOG_FORMAT",
    "LOG_FORMATS",
    "QUIET_LOGGERS",
    "CorrelationFilter",
    "configure_logging",
    "resolve_log_format",
]

LogFormat = Literal["json", "text"]
LOG_FORMATS: tuple[LogFormat, ...] = ("json", "text")

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [cid=%(correlation_id)s] %(message)s"
QUIET_LOGGERS = ("azure.core.pipeline.policies.http_logging_policy",)
"""Loggers kept at WARNING: azure-core logs every storage request and response with all
its headers at INFO (about 20 lines per request, each passing the redactor): a 10 MB
upload in 2 MiB blocks made ~130 lines and cost more CPU than the multipart parsing."""


class CorrelationFilter(logging.Filter):
    """Adds `correlation_id` to the record and redacts the rendered message."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = get_correlation_id() or "-"
        try:
            message = record.getMessage()
        except Exception:
            return True
        record.msg, record.args = redact(message), None
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def resolve_log_format(setting: str, stream: TextIO) -> LogFormat:
    """LOG_FORMAT's value (`json` or `text`, any case), or, when empty, text for a
    terminal and JSON otherwise. Unknown values are refused by `load_settings` first."""
    chosen = setting.strip().lower()
    if chosen in LOG_FORMATS:
        return "json" if chosen == "json" else "text"
    isatty = getattr(stream, "isatty", None)
    return "text" if isatty is not None and isatty() else "json"


def configure_logging(
    level: int = logging.INFO, stream: TextIO | None = None, fmt: str = ""
) -> None:
    """One handler on the root logger (uvicorn's loggers propagate to it), writing
    `fmt` (LOG_FORMAT: json, text, or empty for `resolve_log_format`'s choice).

    `stream` defaults to stderr; the worker passes the real `sys.__stderr__`, because a
    Celery pool process's `sys.stderr` is a proxy into Celery's own logger.
    """
    handler = logging.StreamHandler(stream)
    if resolve_log_format(fmt, handler.stream) == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(CorrelationFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
