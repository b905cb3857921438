"""`crownsafe-harness services up --with-app`: the API and a worker on the started services.

PostgreSQL and Redis are added to the services; the app gets a fresh container and a
migrated database. Prints the app's URL, a token for user 1 and the API's settings (to
run `crownsafe-sweep` or a second worker by hand).
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from crownsafe.config import BACKENDS
from harness.services.base import ServiceStartError
from harness.services.provision import ProvisionedServices, canonical_service_name
from harness.services.stack import ApiStack, start_api_stack

__all__ = ["RunningApp", "start_app", "with_app_services"]

TOKEN_USER = 1
TOKEN_TTL_S = 24 * 3600


def _backend(names: list[str], backend: str | None) -> str:
    if backend:
        return backend
    storage = [n for n in (canonical_service_name(s) for s in names) if n in BACKENDS]
    return storage[0] if storage else "azure"


def with_app_services(names: list[str], backend: str | None) -> list[str]:
    """The service list plus what the app needs: its storage backend, Redis, PostgreSQL."""
    wanted = [canonical_service_name(n) for n in names]
    for extra in (_backend(names, backend), "redis", "postgres"):
        if extra not in wanted:
            wanted.append(extra)
    return wanted


@dataclass(frozen=True)
class RunningApp:
    """The started app: its stack, and what `services up` hands to the user."""

    stack: ApiStack
    backend: str
    log_dir: Path
    exports: dict[str, str]

    def describe(self) -> dict[str, object]:
        """The app's part of `services up --json` (no secret: those are in `exports`)."""
        return {
            "backend": self.backend,
            "url": self.stack.url,
            "docs_url": f"{self.stack.url}/docs",
            "logs": str(self.log_dir),
            "token_user": TOKEN_USER,
            "token_ttl_s": TOKEN_TTL_S,
        }


def start_app(
    services: ProvisionedServices, backend: str | None, say: Callable[[str], None]
) -> RunningApp | None:
    """Start the API (+ worker) on `services`; None (the reason on stderr) if it fails."""
    chosen = _backend(list(services.services), backend)
    log_dir = Path(tempfile.mkdtemp(prefix="crownsafe-app-logs-"))
    try:
        stack = start_api_stack(
            services, services.postgres, services.redis.url, chosen, log_dir, name="manual"
        )
    except ServiceStartError as exc:
        print(exc, file=sys.stderr)
        return None
    exports = {
        name: stack.env[name]
        for name in ("JWT_SECRET", "STORAGE_BACKEND", "DATABASE_URL", "CELERY_QUEUE")
    }
    container = stack.env.get("AZURE_STORAGE_CONTAINER") or stack.env.get("S3_BUCKET", "")
    exports["AZURE_STORAGE_CONTAINER" if chosen == "azure" else "S3_BUCKET"] = container
    exports["CROWNSAFE_API_URL"] = stack.url
    exports["CROWNSAFE_TOKEN"] = stack.token(TOKEN_USER, ttl=TOKEN_TTL_S)
    say(f"# API ({chosen}) at {stack.url}  (docs: {stack.url}/docs, logs: {log_dir})")
    return RunningApp(stack, chosen, log_dir, exports)
