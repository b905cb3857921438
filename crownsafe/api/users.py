"""Who is asking, and whether they may: the dependencies routes declare for their user.

`CurrentUser` authenticates the bearer token and counts the request against the user's
`requests` policy (API_REQUESTS_PER_MINUTE); a failed authentication is counted against
the client IP's `failed-auth` policy (RATE_LIMIT_UNAUTHENTICATED) on every route, and once
that IP is over it the answer is 429 instead of 401 (a guard against guessing tokens).
`limited_user(policy)` does the same and counts the route's own policy too (`uploads`,
`shares`). Each decision is noted for the response's RateLimit fields. A refused request
never reaches storage, so it never counts against the circuit breaker.

The client IP is the connection's peer, or the client a TRUSTED_PROXIES proxy names in
`X-Forwarded-For` (uvicorn's ProxyHeadersMiddleware has rewritten it by then).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from crownsafe.api.auth import Credentials, authenticate
from crownsafe.api.errors import ApiError
from crownsafe.api.ratelimit import RULES
from crownsafe.api.ratelimit_http import limiter_of, note, refusal

__all__ = ["CurrentUser", "current_user", "limited_user"]

_WHAT = {"requests": "requests", "uploads": "uploads", "shares": "share links"}


async def current_user(request: Request, credentials: Credentials) -> int:
    """The authenticated user's id, counted against `requests` (401 / 429)."""
    limiter = limiter_of(request)
    try:
        user = authenticate(credentials, request.app.state.api.settings)
    except ApiError:
        if limiter is not None:
            peer = request.client.host if request.client else "unknown"
            decision = await limiter.hit("failed-auth", f"ip:{peer}")
            note(request, decision)
            if decision is not None and not decision.allowed:
                raise refusal(decision, "failed authentications from this address") from None
        raise
    if limiter is not None:
        decision = await limiter.hit("requests", f"user:{user}")
        note(request, decision)
        if decision is not None and not decision.allowed:
            raise refusal(decision, "requests")
    return user


CurrentUser = Annotated[int, Depends(current_user)]


def limited_user(policy: str) -> Callable[..., object]:
    """A dependency for a route with a policy of its own: the user (as `current_user`),
    counted against `policy` too; 429 with Retry-After when over."""
    if policy not in RULES:
        raise ValueError(f"unknown rate limit policy {policy!r}; known: {RULES}")

    async def dependency(request: Request, user: CurrentUser) -> int:
        limiter = limiter_of(request)
        if limiter is not None:
            decision = await limiter.hit(policy, f"user:{user}")
            note(request, decision)
            if decision is not None and not decision.allowed:
                raise refusal(decision, _WHAT.get(policy, policy))
        return user

    return dependency
