"""Pure ASGI middleware: correlation ids and request metrics (no body buffering).

Starlette's BaseHTTPMiddleware would wrap the request stream; these pass `receive`
through untouched, so the upload route still streams.

- `CorrelationIdMiddleware` (outermost of ours): takes `X-Correlation-ID` from the request when
  it is a sane
  token (else makes one), runs the request inside `correlation_scope` (so every log line
  and every storage call carries it) and sets the header on the response. An exception
  no handler took becomes the one error shape (500, with the id), logged redacted.
- `MetricsMiddleware`: counts requests and observes latency per route *template*
  (`/scans/{scan_id}`), never per raw path, so the label set stays bounded.
"""

from __future__ import annotations

import logging
import re
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crownsafe.api.errors import error_response
from crownsafe.api.metrics import ApiMetrics
from crownsafe.correlation import correlation_scope, new_correlation_id
from crownsafe.redaction import redact

log = logging.getLogger("crownsafe.api")

__all__ = ["CORRELATION_HEADER", "CorrelationIdMiddleware", "MetricsMiddleware"]

CORRELATION_HEADER = "x-correlation-id"
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class CorrelationIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = ""
        for name, value in scope.get("headers", ()):
            if name == CORRELATION_HEADER.encode():
                given = value.decode("latin-1")
                break
        cid = given if _VALID_ID.match(given) else new_correlation_id()

        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [h for h in message.get("headers", []) if h[0] != b"x-correlation-id"]
                headers.append((CORRELATION_HEADER.encode(), cid.encode()))
                message = {**message, "headers": headers}
            await send(message)

        with correlation_scope(cid):
            try:
                await self.app(scope, receive, send_with_id)
            except Exception as exc:
                log.error("unhandled %s: %s", type(exc).__name__, redact(str(exc)), exc_info=exc)
                if started:
                    raise
                await error_response(500, "internal error")(scope, receive, send_with_id)


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    @staticmethod
    def _template(scope: Scope) -> str:
        """The matched route's template, which the router leaves in the (shared) scope."""
        route = scope.get("route")
        if route is None:
            return "unmatched"
        return str(route if isinstance(route, str) else getattr(route, "path", "unmatched"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route = self._template(scope)
            method = str(scope.get("method", ""))
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(time.perf_counter() - began)
