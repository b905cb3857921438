"""Bad bearer tokens: 401 with a challenge and one of two fixed messages, nothing more.

The expired token is minted at an injected time an hour back (no waiting); the forged
ones are signed with another key, with `alg: none`, or carry a wrong issuer or subject.
The answer must not say why a signature failed, name the library or the algorithm,
echo the token, or show the secret, and an upload with such a token stores nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt

from crownsafe.api.auth import mint_token
from harness.fixtures.api import ApiStack
from harness.logscan import find_secrets

from .helpers import assert_typed, raw_text, small_jpeg, stored, unsigned_token

USER = 9121
MESSAGES = {
    "the token is not valid",
    "the token has expired",
    "missing credentials: send an access token in the Authorization header",
}
LEAKY_WORDS = ("signature", "jwt", "hs256", "algorithm", "traceback", "decode", "exception")


def _claims(stack: ApiStack, **changes: object) -> dict[str, object]:
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "sub": str(USER),
        "iss": stack.settings.jwt_issuer,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=1)).timestamp()),
    }
    claims.update(changes)
    return claims


def _bad_authorizations(stack: ApiStack) -> dict[str, str | None]:
    secret = stack.env["JWT_SECRET"]
    past = datetime.now(UTC) - timedelta(hours=1)
    return {
        "missing": None,
        "bare scheme": "Bearer",
        "basic scheme": "Basic dXNlcjpwYXNz",
        "garbage": "Bearer not.a.jwt",
        "expired": f"Bearer {mint_token(USER, stack.settings, ttl=60, now=past)}",
        "wrong key": "Bearer " + jwt.encode(_claims(stack), "x" * 48, algorithm="HS256"),
        "alg none": f"Bearer {unsigned_token(_claims(stack))}",
        "alg none, signature kept": "Bearer "
        + unsigned_token(_claims(stack))
        + mint_token(USER, stack.settings).rsplit(".", 1)[1],
        "wrong issuer": "Bearer " + jwt.encode(_claims(stack, iss="evil"), secret, "HS256"),
        "subject zero": "Bearer " + jwt.encode(_claims(stack, sub="0"), secret, "HS256"),
        "subject path": "Bearer " + jwt.encode(_claims(stack, sub="../1"), secret, "HS256"),
        "no expiry": "Bearer "
        + jwt.encode({k: v for k, v in _claims(stack).items() if k != "exp"}, secret, "HS256"),
    }


def test_bad_tokens_are_401_and_leak_nothing(api_stack: ApiStack) -> None:
    """Missing, expired, forged (other key, alg=none, bad issuer/subject) tokens: 401, no detail."""
    before = stored(api_stack)
    secret = api_stack.env["JWT_SECRET"]
    with api_stack.client() as client:
        for case, authorization in _bad_authorizations(api_stack).items():
            headers = {} if authorization is None else {"Authorization": authorization}
            for method, path, kwargs in (
                ("POST", "/uploads", {"files": {"file": ("a.jpg", small_jpeg(), "image/jpeg")}}),
                ("GET", "/scans/1", {}),
                ("POST", "/scans/1/shares", {"json": {"format": "json"}}),
            ):
                response = client.request(method, path, headers=headers, **kwargs)
                error = assert_typed(response, 401, "unauthorized")
                assert response.headers.get("www-authenticate") == "Bearer", (case, path)
                assert error["message"] in MESSAGES, (case, error["message"])
                text = "\n".join(raw_text(response))
                lowered = error["message"].lower()
                assert not [w for w in LEAKY_WORDS if w in lowered], (case, error["message"])
                token = (authorization or "").removeprefix("Bearer ").strip()
                literals = {"JWT secret": secret}
                if len(token) >= 8:
                    literals["token"] = token
                assert find_secrets([text], literals) == [], (case, path)
    assert stored(api_stack) == before
