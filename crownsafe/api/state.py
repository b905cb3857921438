"""What the routes share: one `ApiState` per app, built by `create_app`.

Everything that does I/O is synchronous (the storage SDKs, SQLAlchemy, redis-py,
Celery's publisher) and is called through `in_thread`, so the event loop never blocks.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import anyio
from fastapi import Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from crownsafe.api.health_cache import HealthCache
from crownsafe.api.metrics import ApiMetrics
from crownsafe.audit import AuditTrail
from crownsafe.config import Settings
from crownsafe.storage.base import StorageClient
from crownsafe.storage.sas_cache import SasUrlCache

if TYPE_CHECKING:
    from crownsafe.api.ratelimit import RateLimiter

__all__ = ["ApiState", "get_state", "in_thread", "utc_now"]

P = ParamSpec("P")
R = TypeVar("R")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ApiState:
    settings: Settings
    storage: StorageClient
    upload_storage: StorageClient
    health_storage: StorageClient
    engine: Engine
    sessions: sessionmaker[Session]
    enqueue: Callable[[str], None]
    redis_ping: Callable[[], None]
    metrics: ApiMetrics = field(default_factory=ApiMetrics)
    clock: Callable[[], datetime] = utc_now
    upload_slots: anyio.Semaphore | None = None
    closers: list[Callable[[], Any]] = field(default_factory=list)
    health_cache: HealthCache = field(default_factory=HealthCache)
    rate_limiter: RateLimiter | None = None
    audit: AuditTrail = field(init=False)
    sas_cache: SasUrlCache | None = None

    def __post_init__(self) -> None:
        failures = self.metrics.audit_write_failures
        self.audit = AuditTrail(
            self.sessions, on_write_failure=lambda operation: failures.labels(operation).inc()
        )

    @property
    def container(self) -> str:
        return self.storage.container_name

    def read_url(self, blob_name: str, seconds: float) -> str:
        """A read-only URL of `blob_name` living `seconds` (from SAS_CACHE when it is on)."""

        def mint() -> str:
            return self.storage.generate_sas_url(
                blob_name, expiry_hours=seconds / 3600, permission="r"
            )

        if self.sas_cache is None:
            return mint()
        return self.sas_cache.get_or_mint(blob_name, "r", seconds, mint)

    def forget_urls(self, blob_name: str) -> None:
        """Drop `blob_name`'s cached URLs (it was deleted, or its share revoked)."""
        if self.sas_cache is not None:
            self.sas_cache.drop(blob_name)

    def close(self) -> None:
        for close in reversed(self.closers):
            close()


def get_state(request: Request) -> ApiState:
    state: ApiState = request.app.state.api
    return state


async def in_thread(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run a blocking call in the thread pool (contextvars, e.g. the correlation id, follow)."""
    return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))
