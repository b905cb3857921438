"""One JSON error shape for every failure the API answers, with the correlation id.

    {"error": {"status": 404, "code": "not_found", "message": "...", "correlation_id": "..."}}

Messages are written for the client and passed through `crownsafe.redaction.redact`; a
raw exception text never reaches a body. Storage outages become 503 with `Retry-After`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from crownsafe.correlation import get_correlation_id
from crownsafe.errors import (
    NonRetryableUploadError,
    StorageError,
    StorageGaveUpError,
    StorageThrottledError,
    StorageUnavailableError,
)
from crownsafe.redaction import redact
from crownsafe.resilience import CircuitOpenError

__all__ = [
    "ApiError",
    "ErrorBody",
    "ErrorDetail",
    "allowed_methods",
    "error_response",
    "install_error_handlers",
    "responses",
]

log = logging.getLogger("crownsafe.api")

DEFAULT_RETRY_AFTER_S = 5
_OUTAGES = (
    StorageUnavailableError,
    StorageThrottledError,
    CircuitOpenError,
    NonRetryableUploadError,
)
_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    411: "length_required",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}
_DESCRIPTIONS = {
    400: "The body could not be parsed",
    401: "Missing, malformed or expired bearer token",
    404: "Not found (or not yours: existence is not revealed)",
    409: "Conflict with the object's current state",
    410: "Gone: the link expired or was revoked",
    411: "A raw-body upload without a Content-Length",
    413: "Body larger than the upload limit",
    415: "The bytes are not a JPEG, PNG or WebP image",
    422: "The request is not valid",
    429: "Over a rate limit (per user, or per client IP without a valid token); see Retry-After",
    503: "A dependency (storage, database, Redis) is unavailable; see Retry-After",
}


class ErrorDetail(BaseModel):
    status: int
    code: str
    message: str
    correlation_id: str | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


class ApiError(Exception):
    """An error the API answers with `status` and a client-facing `message`."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or _CODES.get(status, "error")
        self.message = message
        self.headers = dict(headers or {})


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries (the error shape) for the given statuses."""
    return {
        status: {"model": ErrorBody, "description": _DESCRIPTIONS.get(status, "Error")}
        for status in statuses
    }


def error_response(
    status: int, message: str, *, code: str | None = None, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    detail = ErrorDetail(
        status=status,
        code=code or _CODES.get(status, "error"),
        message=redact(message),
        correlation_id=get_correlation_id(),
    )
    return JSONResponse(ErrorBody(error=detail).model_dump(), status_code=status, headers=headers)


def _retry_after(exc: Exception) -> int:
    if isinstance(exc, CircuitOpenError):
        return max(1, int(exc.retry_in + 0.999))
    if isinstance(exc, StorageThrottledError | StorageGaveUpError) and exc.retry_after:
        return max(1, int(exc.retry_after + 0.999))
    return DEFAULT_RETRY_AFTER_S


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def allowed_methods(request: Request) -> str:
    """Every method some route fully takes on this path, for a 405's `Allow`.

    Starlette's own 405 names the methods of the first route whose path matched, so a path
    served by two routes (GET and POST /scans) answered `Allow: POST` alone. Each method is
    tried against the app's routes through their public `matches` (FastAPI's included
    routers answer FULL or NONE, never PARTIAL)."""
    routes = request.app.router.routes
    allowed = [
        method
        for method in _METHODS
        if any(route.matches({**request.scope, "method": method})[0] is Match.FULL
               for route in routes)
    ]  # fmt: skip
    return ", ".join(allowed)


def install_error_handlers(app: FastAPI) -> None:
    """Route every exception type to the one error shape."""

    async def api_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return error_response(exc.status, exc.message, code=exc.code, headers=exc.headers)

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        message = exc.detail if isinstance(exc.detail, str) else _CODES.get(exc.status_code, "")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = allowed_methods(request)
        return error_response(exc.status_code, message, headers=headers or None)

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        parts = []
        for error in exc.errors()[:5]:
            where = ".".join(str(p) for p in error.get("loc", ()))
            parts.append(f"{where}: {error.get('msg', 'invalid')}")
        return error_response(422, "; ".join(parts) or "invalid request")

    async def storage_error(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, _OUTAGES):
            log.warning("storage unavailable: %s", redact(str(exc)))
            return error_response(
                503,
                "storage is unavailable; nothing was stored, try again later",
                code="storage_unavailable",
                headers={"Retry-After": str(_retry_after(exc))},
            )
        log.error("storage error: %s", redact(str(exc)))
        return error_response(500, "internal error")

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled %s: %s", type(exc).__name__, redact(str(exc)), exc_info=exc)
        return error_response(500, "internal error")

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StorageError, storage_error)
    app.add_exception_handler(Exception, unexpected)
