"""Audit events of the API's routes: who (user, client IP) did what to which blob.

The client IP is the ASGI scope's client: the socket's peer, or the address a trusted
proxy put in `X-Forwarded-For` when TRUSTED_PROXIES names that proxy (uvicorn's
`ProxyHeadersMiddleware`, installed by `create_app` only then; the server itself must
run with `--no-proxy-headers`, see docs/security.md, or uvicorn trusts loopback peers'
headers by default).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from crownsafe.api.state import ApiState
from crownsafe.audit import AuditEvent, Operation, Outcome

__all__ = ["Actor", "actor_of", "audit_event"]


@dataclass(frozen=True)
class Actor:
    """Who asked: the token's user and the client IP (None when the server gave none)."""

    user_id: int
    client_ip: str | None


def actor_of(request: Request, user_id: int) -> Actor:
    return Actor(user_id, request.client.host if request.client else None)


def audit_event(
    state: ApiState,
    actor: Actor,
    operation: Operation,
    outcome: Outcome,
    blob_name: str | None,
    *,
    size: int | None = None,
    detail: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """An event on this app's container and backend (the correlation id is the request's)."""
    return AuditEvent(
        operation=operation,
        outcome=outcome,
        blob_name=blob_name,
        user_id=actor.user_id,
        client_ip=actor.client_ip,
        container=state.container,
        backend=state.settings.storage_backend,
        size_bytes=size,
        detail=detail,
    )
