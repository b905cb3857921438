"""The floors of an upload: an ASGI app that reads a request body, drops it (or forwards it
to a loopback sink) and answers 202.

What receiving the bytes costs on the same server with the same settings as the Crown
Safe app (uvicorn, one worker, the same glibc variables: `FloorAppService` is an
`AppService` with another target), and nothing else: no authentication, no parsing, no
storage. `benchmarks/test_bench_api.py` measures the app's CPU per MiB of `POST /uploads`
against this floor for the same bodies sent the same way; the app's goal is a multiple of
it (issue 19: a goal the machine's own physics cannot break).

Two floors, by path:
- any path: receive only, the body is read and dropped;
- `/forward/...`: receive and forward, each body chunk is written as it arrives to the
  discard sink at FLOOR_SINK (`host:port`, `harness.bench.sink`) over a kept-alive
  loopback TCP connection (an 8-byte length, then the bytes; the sink answers one byte
  when it has them all): the least an app that stores what it receives must do, since
  the app too sends every byte on to storage over loopback HTTP. Needs a Content-Length.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from harness.services.app import AppService
from harness.settings import process_environment

__all__ = ["FloorAppService", "app"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
_idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
"""Kept-alive connections to the sink (one per concurrent request at most)."""


async def _sink() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    if _idle:
        return _idle.pop()
    host, _, port = process_environment()["FLOOR_SINK"].rpartition(":")
    return await asyncio.open_connection(host, int(port))


def _length(scope: Scope) -> int:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value)
    raise ValueError("the forwarding floor needs a Content-Length")


async def _forward(scope: Scope, receive: Receive) -> bool:
    """Send the body on to the sink as it arrives; False if the client went away."""
    reader, writer = await _sink()
    writer.write(_length(scope).to_bytes(8, "big"))
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            writer.close()
            return False
        body = message.get("body", b"")
        if body:
            writer.write(body)
            await writer.drain()
        more = bool(message.get("more_body", False))
    await reader.readexactly(1)
    _idle.append((reader, writer))
    return True


async def _drop(receive: Receive) -> bool:
    """Read the body and drop it; False if the client went away."""
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return False
        more = bool(message.get("more_body", False))
    return True


async def app(
    scope: Scope,
    receive: Receive,
    send: Callable[[Message], Awaitable[None]],
) -> None:
    """Any request: read the whole body and drop it (`/forward/...`: send it to the sink);
    202 for a body-carrying method, else 200 (the readiness probe's GET). Lifespan events
    are acknowledged."""
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
    forward = scope["path"].startswith("/forward/")
    if not await (_forward(scope, receive) if forward else _drop(receive)):
        return
    status = 200 if scope["method"] in ("GET", "HEAD") else 202
    body = b'{"status":"discarded"}'
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class FloorAppService(AppService):
    """uvicorn serving `app` above, started exactly as `AppService` starts the real app."""

    name = "floor-app"
    target = ("harness.services.floor_app:app",)
