"""The other services the application needs: Redis when `REDIS_URL` is set, the API's
`/health` when `--api-url` is given. Each is skipped (and says why) when not configured."""

from __future__ import annotations

import socket
import ssl
from urllib.parse import unquote, urlsplit

from harness.predeploy.context import Context
from harness.predeploy.http import request
from harness.predeploy.model import Check, Outcome, failed, passed, skipped

__all__ = ["CHECKS", "redis_ping"]


def _command(*parts: str) -> bytes:
    encoded = [part.encode() for part in parts]
    return b"".join(
        [f"*{len(encoded)}\r\n".encode()]
        + [b"$%d\r\n%s\r\n" % (len(part), part) for part in encoded]
    )


def redis_ping(url: str, timeout: float) -> str:
    """'' when the server at `url` answers PING with PONG (after AUTH if the URL has a
    password), else what went wrong. RESP over a socket: no Redis client library."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 6379
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            sock = (
                ssl.create_default_context().wrap_socket(raw, server_hostname=host)
                if parts.scheme == "rediss"
                else raw
            )
            if parts.password:
                user = unquote(parts.username or "default")
                sock.sendall(_command("AUTH", user, unquote(parts.password)))
                reply = sock.recv(256)
                if not reply.startswith(b"+OK"):
                    return f"AUTH refused ({reply[:60].decode(errors='replace').strip()})"
            sock.sendall(_command("PING"))
            reply = sock.recv(256)
    except OSError as exc:
        return f"no answer ({type(exc).__name__}: {exc})"
    if reply.startswith(b"+PONG"):
        return ""
    return f"PING answered {reply[:60].decode(errors='replace').strip()!r}"


def _redis(ctx: Context) -> Outcome:
    url = ctx.require_settings().redis_url
    if not url:
        return skipped("REDIS_URL is not set (Redis not configured)")
    problem = redis_ping(url, ctx.options.http_timeout)
    if problem:
        return failed(f"Redis: {problem}", "check REDIS_URL (host, port, password) and the server")
    return passed("Redis answered PING")


def _api_health(ctx: Context) -> Outcome:
    base = ctx.options.api_url
    if not base:
        return skipped("no --api-url given")
    answer = request("GET", base.rstrip("/") + "/health", timeout=ctx.options.http_timeout)
    if answer.status == 200:
        return passed("GET /health answered HTTP 200")
    return failed(
        f"GET /health answered {answer.describe()}", "check --api-url and the API's own logs"
    )


CHECKS = (
    Check(
        "redis.reachable", "Redis reachable (REDIS_URL)", _redis, needs=("config.settings-load",)
    ),
    Check("api.health", "the API's /health answers 200 (--api-url)", _api_health),
)
