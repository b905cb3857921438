"""A fake Azure AD token credential for the emulator: a TEST credential, never for real use.

`FakeTokenCredential` hands out unsigned JWTs shaped like Azure AD access tokens for Azure
Storage (aud `https://storage.azure.com`, iss `https://sts.windows.net/<tenant>/`, valid
nbf/exp, oid/tid). Azurite started with `--oauth basic` checks those claims but not the
signature, so this lets the managed-identity code path (bearer tokens, user delegation
keys, user delegation SAS) run end to end against a local emulator. A real storage
account rejects these tokens.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from azure.core.credentials import AccessToken, AccessTokenInfo, TokenRequestOptions

__all__ = ["STORAGE_AUDIENCE", "FakeAsyncTokenCredential", "FakeTokenCredential", "make_fake_jwt"]

STORAGE_AUDIENCE = "https://storage.azure.com"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_fake_jwt(
    *,
    tenant_id: str,
    object_id: str,
    issued_at: int,
    lifetime_s: int = 3600,
    audience: str = STORAGE_AUDIENCE,
) -> str:
    """An unsigned (fake-signature) JWT with the claims Azurite's OAuth check looks at."""
    header = {"alg": "RS256", "typ": "JWT", "kid": "crownsafe-test"}
    claims = {
        "aud": audience,
        "iss": f"https://sts.windows.net/{tenant_id}/",
        "iat": issued_at,
        "nbf": issued_at - 300,
        "exp": issued_at + lifetime_s,
        "oid": object_id,
        "tid": tenant_id,
        "sub": object_id,
        "appid": object_id,
        "ver": "1.0",
    }
    signature = _b64url(b"not-a-signature:test-credential")
    return ".".join(
        (
            _b64url(json.dumps(header, separators=(",", ":")).encode()),
            _b64url(json.dumps(claims, separators=(",", ":")).encode()),
            signature,
        )
    )


class FakeTokenCredential:
    """TEST ONLY: a `TokenCredential` (and `SupportsTokenInfo`) issuing fake storage tokens.

    Counts how often a token was requested (`calls`) so tests can see token caching.
    """

    def __init__(
        self,
        *,
        tenant_id: str | None = None,
        object_id: str | None = None,
        lifetime_s: int = 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.tenant_id = tenant_id or str(uuid.uuid4())
        self.object_id = object_id or str(uuid.uuid4())
        self.lifetime_s = lifetime_s
        self._clock = clock
        self.calls = 0
        self.scopes: list[tuple[str, ...]] = []

    def _token(self, scopes: tuple[str, ...]) -> tuple[str, int]:
        self.calls += 1
        self.scopes.append(scopes)
        now = int(self._clock())
        token = make_fake_jwt(
            tenant_id=self.tenant_id,
            object_id=self.object_id,
            issued_at=now,
            lifetime_s=self.lifetime_s,
        )
        return token, now + self.lifetime_s

    def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        token, expires_on = self._token(scopes)
        return AccessToken(token, expires_on)

    def get_token_info(
        self, *scopes: str, options: TokenRequestOptions | None = None
    ) -> AccessTokenInfo:
        token, expires_on = self._token(scopes)
        return AccessTokenInfo(token, expires_on)

    def close(self) -> None:
        return None

    def __enter__(self) -> FakeTokenCredential:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"FakeTokenCredential(tenant_id={self.tenant_id!r}, test_only=True)"


class FakeAsyncTokenCredential:
    """TEST ONLY: `FakeTokenCredential` as an `AsyncTokenCredential` (what
    `azure.identity.aio` credentials are) for the async Azure client; `sync` counts."""

    def __init__(self, sync: FakeTokenCredential | None = None) -> None:
        self.sync = sync or FakeTokenCredential()

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return self.sync.get_token(*scopes, **kwargs)

    async def get_token_info(
        self, *scopes: str, options: TokenRequestOptions | None = None
    ) -> AccessTokenInfo:
        return self.sync.get_token_info(*scopes, options=options)

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> FakeAsyncTokenCredential:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"FakeAsyncTokenCredential({self.sync!r})"
