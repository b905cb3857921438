"""Rate limits on the wire: 429 answers, the IETF RateLimit fields, the upload byte quota.

Every decision a request collects (`note`) is answered in two header fields on its
response, success or not, following draft-ietf-httpapi-ratelimit-headers (-09):

    RateLimit-Policy: "requests";q=1000;w=60, "upload-bytes";q=100000000;w=3600;qu="content-bytes"
    RateLimit: "requests";r=997;t=42, "upload-bytes";r=89514321;t=1800

(`q` quota, `w` window in seconds, `qu` quota unit, `r` what remains, `t` seconds until the
window ends). A refusal is 429 with `Retry-After`: when the refused request fits again.
`RateLimitHeadersMiddleware` writes the fields from the decisions the request's scope
state holds, so no route has to remember them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crownsafe.api.errors import ApiError
from crownsafe.api.ratelimit import Decision, RateLimiter

__all__ = [
    "CHARGE_STEP_BYTES",
    "ByteQuota",
    "RateLimitHeadersMiddleware",
    "limiter_of",
    "note",
    "policy_field",
    "ratelimit_field",
    "refusal",
]

_STATE_KEY = "rate_limits"
CHARGE_STEP_BYTES = 1024 * 1024
"""An upload's bytes are charged against its user's quota in steps of this size (one
Redis call per step) and once more, for the rest, before the object is committed."""


def limiter_of(request: Request) -> RateLimiter | None:
    limiter: RateLimiter | None = getattr(request.app.state.api, "rate_limiter", None)
    return limiter


def note(request: Request, decision: Decision | None) -> None:
    """Keep `decision` for the response's RateLimit fields (the last one per policy wins)."""
    if decision is None:
        return
    state: dict[str, Any] = request.scope.setdefault("state", {})
    decisions: dict[str, Decision] = state.setdefault(_STATE_KEY, {})
    decisions[decision.policy.name] = decision


def refusal(decision: Decision, what: str, *, close: bool = False) -> ApiError:
    """The 429 of a refused decision, with Retry-After (and Connection: close when the body
    was not read to its end)."""
    policy = decision.policy
    per = f"{policy.window} s" if policy.window != 60 else "minute"
    headers = {"Retry-After": str(max(1, decision.retry_after))}
    if close:
        headers["Connection"] = "close"
    return ApiError(
        429,
        f"too many {what}: at most {policy.quota} per {per} (policy {policy.name!r}); try "
        f"again in {headers['Retry-After']} s",
        headers=headers,
    )


def policy_field(decisions: Iterable[Decision]) -> str:
    """The RateLimit-Policy field of `decisions` (a structured-field list)."""
    members = []
    for decision in decisions:
        policy = decision.policy
        unit = f';qu="{policy.unit}"' if policy.unit != "requests" else ""
        members.append(f'"{policy.name}";q={policy.quota};w={policy.window}{unit}')
    return ", ".join(members)


def ratelimit_field(decisions: Iterable[Decision]) -> str:
    """The RateLimit field of `decisions`: what remains of each policy and when it resets."""
    return ", ".join(f'"{d.policy.name}";r={d.remaining};t={d.reset}' for d in decisions)


class ByteQuota:
    """One upload's charge against its user's `upload-bytes` policy, as the body streams.

    `received(n)` after each piece; a charge goes to the limiter every CHARGE_STEP_BYTES,
    and `settle()` charges the rest before the object is committed. A charge the quota
    cannot take raises 429 there: the upload is aborted and nothing of it is stored. Bytes
    charged before the refusal stay charged (they were received). `precheck(length)`
    refuses a declared length that cannot fit before any byte is read."""

    def __init__(self, request: Request, limiter: RateLimiter, user_id: int) -> None:
        self._request = request
        self._limiter = limiter
        self._subject = f"user:{user_id}"
        self._received = 0
        self._charged = 0

    @classmethod
    def of(cls, request: Request, user_id: int) -> ByteQuota | None:
        """The request's quota, or None when there is no limiter or the policy is off."""
        limiter = limiter_of(request)
        if limiter is None or limiter.policy("upload-bytes") is None:
            return None
        return cls(request, limiter, user_id)

    async def precheck(self, length: int) -> None:
        decision = await self._limiter.peek("upload-bytes", self._subject, length)
        if decision is not None and not decision.allowed:
            note(self._request, decision)
            raise refusal(decision, "upload bytes", close=True)

    async def received(self, size: int) -> None:
        self._received += size
        if self._received - self._charged >= CHARGE_STEP_BYTES:
            await self._charge(final=False)

    async def settle(self) -> None:
        """The last charge (the rest), read in full for the response's RateLimit field."""
        if self._received > self._charged:
            await self._charge(final=True)
        else:  # the last step charged it all: read what is left
            note(self._request, await self._limiter.peek("upload-bytes", self._subject, 0))

    async def _charge(self, *, final: bool) -> None:
        cost = self._received - self._charged
        decision = await self._limiter.hit("upload-bytes", self._subject, cost, detail=final)
        if decision is not None and (final or not decision.allowed):
            note(self._request, decision)
        if decision is not None and not decision.allowed:
            raise refusal(decision, "upload bytes", close=True)
        self._charged += cost


class RateLimitHeadersMiddleware:
    """Adds RateLimit-Policy and RateLimit to every response whose request was counted."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        # the state dict exists before the app runs, so layers that copy the scope share it
        state: dict[str, Any] = scope.setdefault("state", {})

        async def send_with_fields(message: Message) -> None:
            if message["type"] == "http.response.start":
                decisions: dict[str, Decision] = state.get(_STATE_KEY) or {}
                if decisions:
                    values = list(decisions.values())
                    headers = list(message.get("headers", []))
                    headers.append((b"ratelimit-policy", policy_field(values).encode()))
                    headers.append((b"ratelimit", ratelimit_field(values).encode()))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_fields)
