"""aiohttp settings shared by the async clients (Azure's transport, aiobotocore's session)."""

from __future__ import annotations

import aiohttp

__all__ = ["one_attempt"]


def one_attempt(session: aiohttp.ClientSession) -> aiohttp.ClientSession:
    """Turn off aiohttp's own second attempt of a request on a reset connection.

    aiohttp sends an idempotent request (GET, HEAD, PUT, DELETE) again when its connection
    is reset (RFC 9112 9.3.1.1): a retry below crownsafe's one retry layer (the contract's
    resetting listener counted 2 connections per call). The switch is private (aiohttp's
    own test client sets it the same way); where it is missing nothing changes, and the
    contract's connection count would show it.
    """
    if hasattr(session, "_retry_connection"):
        session._retry_connection = False
    return session
