"""Correlation ids on every log record, secrets off every record, and the storage-error log.

Install the filters once, on the handlers that write your logs (a filter on a *handler*
sees the records of every logger, including the SDKs' and urllib3's; a filter on a logger
would miss records propagated from its children)::

    from crownsafe.resilience import install_log_filters
    install_log_filters()            # every handler of the root logger
    install_log_filters(my_handler)  # or one handler

and use ``%(correlation_id)s`` in the format string. Records logged outside an operation
get ``"-"``. `SecretRedactingFilter` is needed because third-party libraries log URLs
whole: urllib3, for one, logs "Failed to parse headers (url=...)" with the full query,
i.e. a SAS signature, when a response is malformed (seen in the resilience suite).
`with_correlation_id` runs a function under an id (a new one when none is
active); the storage clients send it as `x-ms-client-request-id` (Azure) or
`x-crownsafe-correlation-id` (S3).
"""

from __future__ import annotations

import functools
import inspect
import logging
import traceback
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar, overload

from crownsafe.correlation import correlation_scope, get_correlation_id
from crownsafe.errors import (
    BlobConflictError,
    BlobNotFoundError,
    InvalidBlobNameError,
    InvalidMetadataError,
    InvalidSasRequestError,
    StorageError,
    UploadLengthMismatchError,
)
from crownsafe.redaction import redact

__all__ = [
    "CorrelationIdFilter",
    "SecretRedactingFilter",
    "install_correlation_filter",
    "install_log_filters",
    "log_azure_error",
    "with_correlation_id",
]

logger = logging.getLogger("crownsafe.resilience.errors")

P = ParamSpec("P")
R = TypeVar("R")
F = TypeVar("F", bound=Callable[..., Any])


class CorrelationIdFilter(logging.Filter):
    """Adds `correlation_id` (the current one, or "-") to every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "correlation_id", None) is None:
            record.correlation_id = get_correlation_id() or "-"
        return True


class SecretRedactingFilter(logging.Filter):
    """Rewrites each record's message (and traceback) through `redact_secrets`.

    `redacted` counts the records it had to change.
    """

    def __init__(self) -> None:
        super().__init__()
        self.redacted = 0

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        trace = redact(record.exc_text) if record.exc_text else record.exc_text
        if clean != message or trace != record.exc_text:
            self.redacted += 1
        record.msg, record.args, record.exc_text = clean, None, trace
        return True


FilterT = TypeVar("FilterT", bound=logging.Filter)


def _install(flt: FilterT, handler: logging.Handler | None) -> FilterT:
    """Add `flt` to the handler(s) that lack a filter of its type; return the one in use."""
    handlers = [handler] if handler is not None else logging.getLogger().handlers
    for h in handlers:
        existing = [f for f in h.filters if isinstance(f, type(flt))]
        if not existing:
            h.addFilter(flt)
        elif handler is not None:
            flt = existing[0]
    return flt


def install_correlation_filter(handler: logging.Handler | None = None) -> CorrelationIdFilter:
    """Add one `CorrelationIdFilter` to `handler`, or to every root-logger handler."""
    return _install(CorrelationIdFilter(), handler)


def install_log_filters(
    handler: logging.Handler | None = None,
) -> tuple[CorrelationIdFilter, SecretRedactingFilter]:
    """Install both filters (correlation id, then redaction) on `handler` or the root's."""
    return install_correlation_filter(handler), _install(SecretRedactingFilter(), handler)


def with_correlation_id(fn: F) -> F:
    """Run `fn` (sync or async) under the active correlation id, or a new one."""
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            with correlation_scope():
                return await fn(*args, **kwargs)

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with correlation_scope():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


_CALLERS_MISTAKES = (
    BlobNotFoundError,
    BlobConflictError,
    InvalidBlobNameError,
    InvalidMetadataError,
    InvalidSasRequestError,
    UploadLengthMismatchError,
)


def _is_callers_mistake(exc: BaseException) -> bool:
    if isinstance(exc, _CALLERS_MISTAKES):
        return True
    return isinstance(exc, StorageError) and exc.status in (404, 409)


def log_storage_failure(
    exc: BaseException, *, operation: str, blob_name: str | None = None
) -> None:
    """Log one failed storage operation.

    WARNING, one line, for a caller's mistake (404, 409, an invalid name, metadata or SAS
    request); ERROR otherwise. A typed `StorageError` never gets a traceback; anything
    else (an unexpected exception) gets one.
    """
    cid = get_correlation_id()
    if isinstance(exc, StorageError):
        fields = exc.log_fields()
        fields["operation"] = exc.operation or operation
        fields["blob_name"] = exc.blob_name if exc.blob_name is not None else blob_name
        text = redact(str(exc))
        trace = ""
    else:
        fields = {
            "operation": operation,
            "blob_name": blob_name,
            "error_type": type(exc).__name__,
            "status": None,
            "error_code": None,
            "service_request_id": None,
            "backend": None,
        }
        text = redact(f"{type(exc).__name__}: {exc}")
        trace = "\n" + redact("".join(traceback.format_exception(exc)).rstrip())
    level = logging.WARNING if _is_callers_mistake(exc) else logging.ERROR
    logger.log(
        level,
        "storage %s failed: %s [correlation_id=%s request_id=%s status=%s code=%s]%s",
        fields["operation"],
        text,
        cid,
        fields.get("service_request_id"),
        fields.get("status"),
        fields.get("error_code"),
        trace,
        extra={**fields, "correlation_id": cid},
    )


def _blob_name_getter(fn: Callable[..., Any]) -> Callable[[tuple[Any, ...], dict[str, Any]], Any]:
    try:
        params = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        params = []
    index = params.index("blob_name") if "blob_name" in params else None

    def get(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if "blob_name" in kwargs:
            return kwargs["blob_name"]
        if index is not None and index < len(args):
            return args[index]
        return None

    return get


@overload
def log_azure_error(fn: F, /) -> F: ...
@overload
def log_azure_error(*, operation: str | None = None) -> Callable[[F], F]: ...


def log_azure_error(fn: F | None = None, /, *, operation: str | None = None) -> Any:
    """Log a failing call's error with its service context, then re-raise it.

    Fields (also as record attributes): status, error_code, service_request_id,
    correlation_id, operation (default: the function's name), blob_name (from the error
    or the function's `blob_name` argument), backend, error_type. Messages are passed
    through `redact_secrets`. Usable bare (``@log_azure_error``) or with an operation name.
    """

    def decorate(func: F) -> F:
        name = operation or func.__name__
        blob_of = _blob_name_getter(func)
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                try:
                    return await func(*args, **kwargs)
                except Exception as exc:
                    log_storage_failure(exc, operation=name, blob_name=blob_of(args, kwargs))
                    raise

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except Exception as exc:
                log_storage_failure(exc, operation=name, blob_name=blob_of(args, kwargs))
                raise

        return wrapper  # type: ignore[return-value]

    if fn is not None:
        return decorate(fn)
    return decorate
