"""Bearer tokens: HS256 JWTs signed with JWT_SECRET, the user id in `sub`.

`mint_token` is what operators and tests use (also `crownsafe-harness token`);
`authenticate` checks a request's bearer credentials (the dependency routes declare,
which also counts the request against the rate limits, is `crownsafe.api.users`). A bad
token answers 401 with `WWW-Authenticate: Bearer` and never echoes the token.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import jwt
from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from crownsafe.api.errors import ApiError
from crownsafe.config import Settings, check_jwt_secret

__all__ = ["ALGORITHM", "Credentials", "authenticate", "mint_token", "verify_token"]

ALGORITHM = "HS256"
_bearer = HTTPBearer(auto_error=False, description="A token from `crownsafe-harness token`")
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def _secret(settings: Settings) -> str:
    secret = settings.jwt_secret.get()
    if not secret:
        raise RuntimeError("JWT_SECRET is not set; the API cannot sign or verify tokens")
    check_jwt_secret(secret)  # Settings built in code skip load_settings' check
    return secret


def mint_token(
    user_id: int,
    settings: Settings,
    ttl: float | timedelta = 3600,
    *,
    now: datetime | None = None,
) -> str:
    """A signed token for `user_id`, valid for `ttl` (seconds or a timedelta)."""
    if user_id < 1:
        raise ValueError("user ids start at 1")
    issued = now or datetime.now(UTC)
    lifetime = ttl if isinstance(ttl, timedelta) else timedelta(seconds=ttl)
    claims = {
        "sub": str(user_id),
        "iss": settings.jwt_issuer,
        "iat": issued,
        "exp": issued + lifetime,
    }
    return jwt.encode(claims, _secret(settings), algorithm=ALGORITHM)


def verify_token(token: str, settings: Settings) -> int:
    """The user id of a valid token; `ApiError(401)` for anything else."""
    try:
        claims = jwt.decode(
            token,
            _secret(settings),
            algorithms=[ALGORITHM],
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "iat", "sub", "iss"]},
        )
        user_id = int(claims["sub"])
    except jwt.ExpiredSignatureError:
        raise ApiError(401, "the token has expired", headers=_CHALLENGE) from None
    except (jwt.InvalidTokenError, ValueError, TypeError):
        raise ApiError(401, "the token is not valid", headers=_CHALLENGE) from None
    if user_id < 1:
        raise ApiError(401, "the token is not valid", headers=_CHALLENGE)
    return user_id


def authenticate(credentials: HTTPAuthorizationCredentials | None, settings: Settings) -> int:
    """The user id of the request's bearer credentials (401 without a valid token)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(
            401, "missing credentials: send an access token in the Authorization header",
            headers=_CHALLENGE,
        )  # fmt: skip
    return verify_token(credentials.credentials, settings)


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
"""The request's `Authorization: Bearer` credentials, if any (FastAPI's HTTPBearer)."""
