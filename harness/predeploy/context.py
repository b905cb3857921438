"""What the checks share during one run: the environment, the settings, one storage client,
the probe blobs written so far, and every secret value to keep out of the output."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from crownsafe.config import Settings
from crownsafe.redaction import redact
from crownsafe.storage.base import StorageClient
from harness.predeploy.model import CheckResult
from harness.predeploy.probes import ProbeSet

__all__ = ["SECRET_VARIABLES", "Context", "Options", "secrets_in"]

SECRET_VARIABLES = (
    "AZURE_STORAGE_CONNECTION_STRING",
    "AZURE_STORAGE_ACCOUNT_KEY",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "DATABASE_URL",
    "REDIS_URL",
)


@dataclass(frozen=True)
class Options:
    """The command line's choices (see `harness.commands.predeploy`)."""

    api_url: str = ""
    stale_minutes: float = 60.0
    http_timeout: float = 10.0
    skip: tuple[str, ...] = ()
    dry_run: bool = False


def secrets_in(environ: Mapping[str, str]) -> list[str]:
    """Every secret value the environment holds: whole values, and the parts inside them
    (an AccountKey or SAS in a connection string, a password in a URL)."""
    found: list[str] = []
    for name in SECRET_VARIABLES:
        value = environ.get(name, "").strip()
        if not value:
            continue
        found.append(value)
        for part in value.split(";"):
            key, _, inner = part.partition("=")
            if key.strip().lower() in ("accountkey", "sharedaccesssignature") and inner:
                found.append(inner.strip())
        with contextlib.suppress(ValueError):
            password = urlsplit(value).password
            if password:
                found.extend({password, unquote(password)})
    # Longest first, so a whole value is replaced before a part of it.
    return sorted({s for s in found if len(s) >= 4}, key=len, reverse=True)


@dataclass
class Context:
    """State of one run. `storage()` builds the bare client once (no resilience wrapper:
    one request per operation, so a check's verdict is about the service, not retries)."""

    environ: Mapping[str, str]
    options: Options = field(default_factory=Options)
    settings: Settings | None = None
    probes: ProbeSet = field(default_factory=ProbeSet)
    results: dict[str, CheckResult] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    _secrets: list[str] = field(default_factory=list)
    _storage: StorageClient | None = None

    def __post_init__(self) -> None:
        self._secrets = secrets_in(self.environ)

    def add_secret(self, value: str) -> None:
        """Keep `value` (e.g. a SAS token made during the run) out of every output."""
        if value and value not in self._secrets:
            self._secrets = sorted([*self._secrets, value], key=len, reverse=True)

    def redact(self, text: str) -> str:
        return redact(text, *self._secrets)

    def require_settings(self) -> Settings:
        if self.settings is None:
            raise RuntimeError("config.settings-load has not run")
        return self.settings

    def storage(self) -> StorageClient:
        if self._storage is None:
            from crownsafe.storage.factory import create_storage_client

            self._storage = create_storage_client(self.require_settings(), resilient=False)
        return self._storage

    def storage_if_built(self) -> StorageClient | None:
        return self._storage

    def fresh_storage(self) -> StorageClient | None:
        """A new client (the old one may hold a connection a signal cut mid-request)."""
        if self.settings is None or self._storage is None:
            return None
        self.close()
        return self.storage()

    def close(self) -> None:
        if self._storage is not None:
            with contextlib.suppress(Exception):
                self._storage.close()
            self._storage = None
