"""`CrownsafeUser`: the base of every scenario (a FastHttpUser with its own identity).

Each virtual user gets its own user id (per generator process a block of ids, so
workers never share one) and mints its own bearer token with
`crownsafe.api.auth.mint_token` and JWT_SECRET from the environment: objects are created
and read by their owner only, so object-level authorization runs on every request.

Every request goes through `call` / `fetch_storage` with `catch_response=True`: a wrong
status, a body that is not the expected JSON, or content that does not match its
digest counts as a failure. Failure messages hold the status and the API's error code
only (never a URL, a token or a SAS signature; `crownsafe.redaction` on anything else).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from locust import FastHttpUser, between
from locust.env import Environment

from crownsafe.api.auth import mint_token
from crownsafe.config import Settings, load_settings
from crownsafe.errors import ConfigError
from crownsafe.redaction import redact

__all__ = [
    "IDS_PER_PROCESS",
    "SCAN_BODIES",
    "Check",
    "CrownsafeUser",
    "token_settings",
]

IDS_PER_PROCESS = 100_000
TOKEN_TTL_S = 7 * 24 * 3600
SCAN_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "scans"
SCAN_BODIES: tuple[dict[str, Any], ...] = tuple(
    json.loads(path.read_text("utf-8")) for path in sorted(SCAN_DIR.glob("*.json"))
)
Check = Callable[[Any], str | None]
"""Looks at a decoded JSON body; returns what is wrong with it, or None."""

_counter = itertools.count()


def token_settings() -> Settings:
    """What `mint_token` needs: JWT_SECRET (required) and JWT_ISSUER, as the app reads
    them (`crownsafe.config.load_settings`). RuntimeError says what is wrong."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        raise RuntimeError(str(exc)) from None
    if not settings.jwt_secret:
        raise RuntimeError(
            "JWT_SECRET is not set: export the app's JWT_SECRET (crownsafe-harness services "
            "up --with-app prints it) so each virtual user can mint its own token"
        )
    return settings


def _next_user_id(environment: Environment) -> int:
    options = environment.parsed_options
    base = int(getattr(options, "crownsafe_user_base", 0) or 0) if options else 0
    if base < 1:
        raise RuntimeError("--crownsafe-user-base must be a positive user id")
    index = max(0, int(getattr(environment.runner, "worker_index", 0) or 0))
    number = next(_counter)
    if number >= IDS_PER_PROCESS:
        raise RuntimeError(f"more than {IDS_PER_PROCESS} virtual users in one process")
    return base + index * IDS_PER_PROCESS + number


def _error_code(response: Any) -> str:
    try:
        body = json.loads(response.content or b"{}")
        code = body.get("error", {}).get("code", "") if isinstance(body, dict) else ""
    except (ValueError, AttributeError):
        code = ""
    return redact(str(code))[:60] or "no error code"


def _describe(response: Any, expected: int) -> str:
    if not response.status_code:
        error = response.request_meta.get("exception")
        return f"no response ({type(error).__name__ if error else 'connection failed'})"
    return f"HTTP {response.status_code} (expected {expected}): {_error_code(response)}"


class CrownsafeUser(FastHttpUser):
    abstract = True
    wait_time = between(0.5, 1.5)
    network_timeout = 60.0
    connection_timeout = 10.0

    user_id: int
    auth: dict[str, str]
    rng: random.Random

    def on_start(self) -> None:
        self.user_id = _next_user_id(self.environment)
        token = mint_token(self.user_id, token_settings(), ttl=TOKEN_TTL_S)
        self.auth = {"Authorization": f"Bearer {token}"}
        self.rng = random.Random(self.user_id)
        self.scans: list[int] = []

    def call(
        self,
        method: str,
        path: str,
        name: str,
        expect: int,
        *,
        json: Any = None,
        files: dict[str, Any] | None = None,
        check: Check | None = None,
    ) -> Any:
        """One API request as this user; the decoded JSON body ({} for 204), or None when
        it failed (already counted as a failure)."""
        with self.client.request(
            method,
            path,
            name=name,
            headers=self.auth,
            json=json,
            files=files,
            catch_response=True,
        ) as response:
            if response.status_code != expect:
                response.failure(_describe(response, expect))
                return None
            if expect == 204:
                response.success()
                return {}
            try:
                body = response.json()
            except ValueError:
                response.failure(f"HTTP {expect} but the body is not JSON")
                return None
            problem = check(body) if check else None
            if problem:
                response.failure(redact(problem))
                return None
            response.success()
            return body

    def fetch_storage(self, url: str, name: str, size: int, sha256: str) -> bool:
        """GET a SAS / presigned URL straight from the storage service (no bearer token:
        the URL is the credential); the bytes must match `size` and `sha256`."""
        with self.client.request("GET", url, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(_describe(response, 200))
                return False
            data = response.content or b""
            if len(data) != size or hashlib.sha256(data).hexdigest() != sha256:
                response.failure(f"content differs from the recorded one ({len(data)} bytes)")
                return False
            response.success()
            return True

    def ensure_scan(self, name: str = "/scans") -> int | None:
        """One of this user's scans: a new one while it has fewer than 3, else a random one."""
        if len(self.scans) >= 3:
            return self.rng.choice(self.scans)
        return self.create_scan(name)

    def create_scan(self, name: str = "/scans") -> int | None:
        body = self.rng.choice(SCAN_BODIES)

        def check(scan: Any) -> str | None:
            if not isinstance(scan, dict) or not isinstance(scan.get("id"), int):
                return "scan without an id"
            if scan.get("product_name") != body["product_name"]:
                return "scan answered with another product name"
            return None

        scan = self.call("POST", "/scans", name, 201, json=body, check=check)
        if scan is None:
            return None
        self.scans.append(scan["id"])
        return int(scan["id"])
