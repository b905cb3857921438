"""`crownsafe-harness services up --with-app`: the API and a worker on the started services.

PostgreSQL and Redis are added to the services; the app gets a fresh container and a
migrated database. Prints the app's URL, a token for user 1 and the API's settings (to
run `crownsafe-sweep` or a second worker by hand).
"""

from __future__ import annotations

import shlex
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from harness.services.base import ServiceStartError
from harness.services.provision import ProvisionedServices, canonical_service_name
from harness.services.stack import ApiStack, start_api_stack

__all__ = ["start_app", "with_app_services"]


def _backend(names: list[str], backend: str | None) -> str:
    if backend:
        return backend
    storage = [n for n in (canonical_service_name(s) for s in names) if n in ("azure", "s3")]
    return storage[0] if storage else "azure"


def with_app_services(names: list[str], backend: str | None) -> list[str]:
    """The service list plus what the app needs: its storage backend, Redis, PostgreSQL."""
    wanted = [canonical_service_name(n) for n in names]
    for extra in (_backend(names, backend), "redis", "postgres"):
        if extra not in wanted:
            wanted.append(extra)
    return wanted


def start_app(
    services: ProvisionedServices, backend: str | None, say: Callable[[str], None]
) -> ApiStack | None:
    chosen = _backend(list(services.services), backend)
    log_dir = Path(tempfile.mkdtemp(prefix="crownsafe-app-logs-"))
    try:
        stack = start_api_stack(
            services, services.postgres, services.redis.url, chosen, log_dir, name="manual"
        )
    except ServiceStartError as exc:
        print(exc, file=sys.stderr)
        return None
    for name in ("JWT_SECRET", "STORAGE_BACKEND", "DATABASE_URL", "CELERY_QUEUE"):
        say(f"export {name}={shlex.quote(stack.env[name])}")
    container = stack.env.get("AZURE_STORAGE_CONTAINER") or stack.env.get("S3_BUCKET", "")
    container_var = "AZURE_STORAGE_CONTAINER" if chosen == "azure" else "S3_BUCKET"
    say(f"export {container_var}={shlex.quote(container)}")
    say(f"# API ({chosen}) at {stack.url}  (docs: {stack.url}/docs, logs: {log_dir})")
    say(f"export CROWNSAFE_API_URL={stack.url}")
    say(f"export CROWNSAFE_TOKEN={stack.token(1, ttl=24 * 3600)}")
    say('# try: curl -H "Authorization: Bearer $CROWNSAFE_TOKEN" $CROWNSAFE_API_URL/scans')
    return stack
