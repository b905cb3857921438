"""The Crown Safe HTTP API (FastAPI): `create_app(settings)` and token minting."""

from crownsafe.api.app import create_app
from crownsafe.api.auth import mint_token, verify_token

__all__ = ["create_app", "mint_token", "verify_token"]
