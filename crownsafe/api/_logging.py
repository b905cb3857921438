"""Log lines with the correlation id, every message through `crownsafe.redaction.redact`."""

from __future__ import annotations

import logging
from typing import TextIO

from crownsafe.correlation import get_correlation_id
from crownsafe.redaction import redact

__all__ = ["LOG_FORMAT", "QUIET_LOGGERS", "CorrelationFilter", "configure_logging"]

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


def configure_logging(level: int = logging.INFO, stream: TextIO | None = None) -> None:
    """One handler on the root logger (uvicorn's loggers propagate to it).

    `stream` defaults to stderr; the worker passes the real `sys.__stderr__`, because a
    Celery pool process's `sys.stderr` is a proxy into Celery's own logger.
    """
    handler = logging.StreamHandler(stream)
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
