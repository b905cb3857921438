"""An API stack: a container, a migrated database, the app and (optionally) a worker.

Used by the pytest fixtures (`harness/fixtures/api.py`) and by
`crownsafe-harness services up --with-app`. Everything runs against services the harness
already started (`ProvisionedServices` + a `PostgresService` + a Redis URL).
"""

from __future__ import annotations

import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from alembic import command

from crownsafe.api.auth import mint_token
from crownsafe.config import SecretStr, Settings, load_settings
from crownsafe.db.alembic_config import make_alembic_config
from crownsafe.storage.base import StorageClient
from crownsafe.storage.factory import create_storage_client
from crownsafe.storage.naming import validate_container_name
from harness.services.app import AppService
from harness.services.postgres import PostgresService
from harness.services.provision import ProvisionedServices
from harness.services.worker import WorkerService

__all__ = ["ApiStack", "stack_env", "start_api_stack"]


def _container_name(name: str, backend: str) -> str:
    """A fresh container/bucket name valid on both services."""
    return validate_container_name(f"cs-{name}-{backend}-{secrets.token_hex(6)}")


def stack_env(
    services: ProvisionedServices,
    backend: str,
    container: str,
    database_url: str,
    redis_url: str,
    secret: str,
    **overrides: str,
) -> dict[str, str]:
    """crownsafe's settings for an app/worker pair on `backend` (values as env strings)."""
    if backend == "azure":
        env = services.azure.env()
        env["AZURE_STORAGE_CONTAINER"] = container
    else:
        env = services.s3.env()
        env["S3_BUCKET"] = container
    env.update(
        STORAGE_BACKEND=backend,
        AZURE_BLOB_ENABLED="true",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        JWT_SECRET=secret,
        TRUSTED_HOSTS="127.0.0.1,localhost",
        STORAGE_MAX_RETRIES="2",
        STORAGE_RETRY_BASE_DELAY="0.05",
        STORAGE_TIMEOUT_SECONDS="10",
    )
    env.update(overrides)
    return env


@dataclass
class ApiStack:
    """A running app (+ worker) on one backend, and what a test needs to talk to it."""

    backend: str
    url: str
    env: dict[str, str]
    app: AppService
    worker: WorkerService | None
    storage: StorageClient
    database_url: str
    gate_dir: Path
    _clients: list[httpx.Client] = field(default_factory=list)

    @property
    def settings(self) -> Settings:
        return Settings(jwt_secret=SecretStr(self.env["JWT_SECRET"]))

    def token(self, user_id: int, ttl: float = 3600) -> str:
        return mint_token(user_id, self.settings, ttl)

    def client(self, user_id: int | None = None, **kwargs: Any) -> httpx.Client:
        """An httpx client on the app; with `user_id`, authenticated as that user."""
        headers = dict(kwargs.pop("headers", {}))
        if user_id is not None:
            headers["Authorization"] = f"Bearer {self.token(user_id)}"
        kwargs.setdefault("timeout", 60.0)
        client = httpx.Client(base_url=self.url, headers=headers, trust_env=False, **kwargs)
        self._clients.append(client)
        return client

    def stop(self) -> None:
        for client in self._clients:
            client.close()
        if self.worker is not None:
            self.worker.stop()
        self.app.stop()
        self.storage.close()


def start_api_stack(
    services: ProvisionedServices,
    postgres: PostgresService,
    redis_url: str,
    backend: str,
    log_dir: Path,
    *,
    worker: bool = True,
    gated: bool = False,
    name: str = "api",
    **overrides: str,
) -> ApiStack:
    """Make a container and a migrated database, then start the app (and a worker).

    `gated=True` sets JOB_GATE_DIR to the stack's `gate_dir` (jobs wait for a release
    file there: see crownsafe.tasks._gate).
    """
    container = _container_name(name, backend)
    database_url = postgres.create_database()
    command.upgrade(make_alembic_config(database_url), "head")
    gate_dir = Path(tempfile.mkdtemp(prefix="crownsafe-gate-"))
    overrides.setdefault("CELERY_QUEUE", f"crownsafe-{container}")
    if gated:
        overrides["JOB_GATE_DIR"] = str(gate_dir)
    env = stack_env(
        services, backend, container, database_url, redis_url, secrets.token_hex(32), **overrides
    )
    # The harness provisions the container whatever the app's AZURE_BLOB_ENABLED says:
    # the app may run with Azure writes off, its container must still exist.
    storage = create_storage_client(
        load_settings({**env, "AZURE_BLOB_ENABLED": "true"}), resilient=False
    )
    storage.create_container(exist_ok=True)
    app = AppService(settings_env=env, log_dir=log_dir)
    celery: WorkerService | None = None
    try:
        app.start()
        if worker:
            celery = WorkerService(settings_env=env, log_dir=log_dir).start()
    except BaseException:
        app.stop()
        storage.close()
        raise
    return ApiStack(backend, app.url, env, app, celery, storage, database_url, gate_dir)
