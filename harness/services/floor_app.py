"""The floor of an upload: an ASGI app that reads a request body, discards it, answers 202.

What receiving the bytes costs on the same server with the same settings as the Crown
Safe app (uvicorn, one worker, the same glibc variables: `FloorAppService` is an
`AppService` with another target), and nothing else: no authentication, no parsing, no
storage. `benchmarks/test_bench_api.py` measures the app's CPU per MiB of `POST /uploads`
against this floor for the same bodies sent the same way; the app's goal is a multiple of
it (issue 19: a goal the machine's own physics cannot break).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from harness.services.app import AppService

__all__ = ["FloorAppService", "app"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]


async def app(
    scope: Scope,
    receive: Callable[[], Awaitable[Message]],
    send: Callable[[Message], Awaitable[None]],
) -> None:
    """Any request: read the whole body and drop it; 202 for a body-carrying method, else
    200 (the readiness probe's GET). Lifespan events are acknowledged."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        more = bool(message.get("more_body", False))
    status = 200 if scope["method"] in ("GET", "HEAD") else 202
    body = b'{"status":"discarded"}'
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class FloorAppService(AppService):
    """uvicorn serving `app` above, started exactly as `AppService` starts the real app."""

    name = "floor-app"
    target = ("harness.services.floor_app:app",)
