"""Bearer tokens: minted tokens verify; forged, expired, foreign-issuer ones do not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from crownsafe.api.auth import mint_token, verify_token
from crownsafe.api.errors import ApiError
from crownsafe.config import SecretStr, Settings

SETTINGS = Settings(jwt_secret=SecretStr("k" * 40))


def test_round_trip() -> None:
    assert verify_token(mint_token(42, SETTINGS), SETTINGS) == 42


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        jwt.encode({"sub": "1", "iss": "crownsafe", "iat": 0, "exp": 2**40}, "x" * 40),
        jwt.encode({"sub": "1", "iss": "elsewhere", "iat": 0, "exp": 2**40}, "k" * 40),
        jwt.encode({"sub": "abc", "iss": "crownsafe", "iat": 0, "exp": 2**40}, "k" * 40),
        jwt.encode({"sub": "0", "iss": "crownsafe", "iat": 0, "exp": 2**40}, "k" * 40),
        jwt.encode({"iss": "crownsafe", "iat": 0, "exp": 2**40}, "k" * 40),
        jwt.encode({"sub": "1", "iss": "crownsafe", "iat": 0, "exp": 2**40}, "", algorithm="none"),
    ],
)
def test_bad_tokens_are_401(token: str) -> None:
    with pytest.raises(ApiError) as caught:
        verify_token(token, SETTINGS)
    assert caught.value.status == 401
    assert token not in caught.value.message


def test_a_short_key_is_a_config_error_not_a_pyjwt_warning() -> None:
    """Settings built in code skip load_settings' check; minting still refuses the key."""
    from crownsafe.errors import ApiConfigError

    with pytest.raises(ApiConfigError, match="at least 32 bytes"):
        mint_token(1, Settings(jwt_secret=SecretStr("k" * 31)))


def test_expired_token_says_so() -> None:
    old = mint_token(7, SETTINGS, ttl=60, now=datetime.now(UTC) - timedelta(hours=1))
    with pytest.raises(ApiError, match="expired"):
        verify_token(old, SETTINGS)


def test_user_ids_start_at_one() -> None:
    with pytest.raises(ValueError):
        mint_token(0, SETTINGS)
