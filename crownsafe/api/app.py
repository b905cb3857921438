"""`create_app(settings)`: the Crown Safe API as one FastAPI app.

Middleware, outermost first: [proxy headers, only with TRUSTED_PROXIES] -> correlation id ->
metrics -> CORS -> trusted hosts -> routes.
CORS allows the original backend's `https://<account>.blob.core.windows.net` origins plus
CORS_ORIGINS, nothing else; TrustedHostMiddleware allows TRUSTED_HOSTS. Every route but
`/health*` requires a bearer token (`crownsafe.api.auth`).
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import anyio
import redis
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from crownsafe.api.errors import install_error_handlers
from crownsafe.api.metrics import ApiMetrics, JobStatusCollector, RateLimitEvents
from crownsafe.api.middleware import CORRELATION_HEADER, CorrelationIdMiddleware, MetricsMiddleware
from crownsafe.api.ratelimit import build_rate_limiter
from crownsafe.api.ratelimit_http import RateLimitHeadersMiddleware
from crownsafe.api.routes import ROUTERS
from crownsafe.api.state import ApiState, utc_now
from crownsafe.audit import AuditEvent
from crownsafe.config import Settings
from crownsafe.cutover.counters import CutoverCounters
from crownsafe.cutover.factory import create_app_storage
from crownsafe.db.session import make_engine, make_session_factory
from crownsafe.storage.base import StorageClient
from crownsafe.storage.sas_cache import SasUrlCache

__all__ = ["AZURE_BLOB_ORIGIN_REGEX", "create_app", "job_counts"]

AZURE_BLOB_ORIGIN_REGEX = r"https://[a-z0-9]{3,24}\.blob\.core\.windows\.net"
MiB = 1024 * 1024
_UPLOAD_CLIENT_OPTIONS: dict[str, dict[str, Any]] = {
    "azure": {"block_size": 5 * MiB, "max_concurrency": 1},
    "s3": {"part_size": 5 * MiB, "max_concurrency": 1},
}
"""Streamed uploads buffer about block/part size x concurrency per upload: small blocks
keep 16 concurrent 10 MB uploads well under 100 MiB (S3's smallest part is 5 MiB)."""


def _ping(client: redis.Redis) -> None:
    if not client.ping():
        raise ConnectionError("Redis did not answer PING")


def job_counts(state: ApiState) -> dict[str, int]:
    from sqlalchemy import func, select

    from crownsafe.db.models import ImageJob

    with state.sessions() as session:
        rows = session.execute(select(ImageJob.status, func.count()).group_by(ImageJob.status))
        return {str(status): int(count) for status, count in rows}


def _build_state(
    settings: Settings,
    *,
    clock: Callable[[], datetime] | None,
    storage: StorageClient | None,
    enqueue: Callable[[str], None] | None,
) -> ApiState:
    metrics = ApiMetrics()
    metrics.backend_info.labels(settings.storage_backend).set(1)
    counters = (
        CutoverCounters(metrics.registry) if settings.storage_migration_phase.strip() else None
    )
    storage = storage or create_app_storage(settings, counters=counters)
    upload_storage = create_app_storage(
        settings, client_options=_UPLOAD_CLIENT_OPTIONS, counters=counters
    )
    health_storage = getattr(storage, "inner", storage)
    engine = make_engine(settings.database_url.get(), pool_size=10, max_overflow=20)
    redis_client = redis.Redis.from_url(
        settings.redis_url, socket_timeout=2, socket_connect_timeout=2
    )
    closers: list[Callable[[], object]] = [
        storage.close,
        upload_storage.close,
        engine.dispose,
        redis_client.close,
    ]
    if enqueue is None:
        from crownsafe.tasks.celery_app import create_celery, enqueue_image_job

        celery = create_celery(settings)

        def enqueue(job_id: str) -> None:
            enqueue_image_job(celery, job_id)

        closers.append(celery.close)
    state = ApiState(
        settings=settings,
        storage=storage,
        upload_storage=upload_storage,
        health_storage=health_storage,
        engine=engine,
        sessions=make_session_factory(engine),
        enqueue=enqueue,
        redis_ping=lambda: _ping(redis_client),
        metrics=metrics,
        clock=clock or utc_now,
        closers=closers,
        rate_limiter=build_rate_limiter(settings, events=RateLimitEvents(metrics)),
        sas_cache=SasUrlCache(
            redis_client,
            namespace=settings.container,
            min_lifetime_s=settings.sas_cache_min_lifetime_seconds,
        )
        if settings.sas_cache == "redis"
        else None,
    )
    state.metrics.add_collector(JobStatusCollector(lambda: job_counts(state)))
    if counters is not None:
        counters.add_fallback_listener(functools.partial(_audit_fallback, state))
    return state


def _audit_fallback(state: ApiState, operation: str, blob_name: str) -> None:
    """One `fallback_read` audit row per read served from S3 during the cut-over (the
    request's correlation id links it to the request's own row and user)."""
    state.audit.record(
        AuditEvent(
            operation="fallback_read",
            outcome="ok",
            blob_name=blob_name,
            user_id=None,
            client_ip=None,
            container=state.container,
            backend="s3",
            detail={"storage_operation": operation},
        )
    )


def create_app(
    settings: Settings,
    *,
    clock: Callable[[], datetime] | None = None,
    storage: StorageClient | None = None,
    enqueue: Callable[[str], None] | None = None,
) -> FastAPI:
    """The API for `settings`; `clock`, `storage`, `enqueue` are seams for tests."""
    if not settings.jwt_secret:
        from crownsafe.errors import ApiConfigError

        raise ApiConfigError(
            "JWT_SECRET is not set; the API cannot verify bearer tokens",
            hint="set JWT_SECRET to a long random value, e.g. `openssl rand -hex 32`",
        )
    state = _build_state(settings, clock=clock, storage=storage, enqueue=enqueue)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state.upload_slots = anyio.Semaphore(settings.upload_slots)
        try:
            yield
        finally:
            state.close()

    app = FastAPI(
        title="Crown Safe API",
        version="1.0.0",
        description="Scans, share links, visual uploads, risk reports and visual search.",
        lifespan=lifespan,
    )
    app.state.api = state
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.trusted_host_list)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origin_list,
        allow_origin_regex=AZURE_BLOB_ORIGIN_REGEX,
        allow_methods=["GET", "POST", "DELETE"],
        allow_headers=["Authorization", "Content-Type", CORRELATION_HEADER],
        expose_headers=[CORRELATION_HEADER, "Retry-After", "RateLimit-Policy", "RateLimit"],
    )
    app.add_middleware(RateLimitHeadersMiddleware)
    app.add_middleware(MetricsMiddleware, metrics=state.metrics)
    app.add_middleware(CorrelationIdMiddleware)
    if settings.trusted_proxy_list:
        # outermost: every layer below (rate limits, audit) sees the forwarded client
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxy_list)
    return app
