"""The storage client the app and the worker use: plain, or migrating during a cut-over.

`create_app_storage(settings)` is `create_storage_client(settings)` unless
`STORAGE_MIGRATION_PHASE` is set; then it is a `MigratingStorageClient` over the Azure
client and the S3 client the same settings describe (each behind its own resilience
layer and breaker), following a fixed phase or, with `live`, the phase log in PostgreSQL.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from prometheus_client import CollectorRegistry

from crownsafe.config import Settings
from crownsafe.cutover.client import MigratingStorageClient
from crownsafe.cutover.counters import CutoverCounters
from crownsafe.cutover.phases import MigrationPhase
from crownsafe.cutover.state import LivePhase, fixed_phase
from crownsafe.storage.base import StorageClient
from crownsafe.storage.factory import create_storage_client

__all__ = ["create_app_storage", "phase_source"]


def create_app_storage(
    settings: Settings,
    *,
    client_options: Mapping[str, Mapping[str, Any]] | None = None,
    registry: CollectorRegistry | None = None,
    counters: CutoverCounters | None = None,
) -> StorageClient:
    """The configured client; `client_options[backend]` go to that backend's client."""
    options = client_options or {}
    if not settings.storage_migration_phase.strip():
        return create_storage_client(settings, **options.get(settings.storage_backend, {}))
    counters = counters or CutoverCounters(registry)
    azure = create_storage_client(settings, **options.get("azure", {}))
    try:
        s3_settings = dataclasses.replace(
            settings, storage_backend="s3", storage_migration_phase=""
        )
        s3 = create_storage_client(s3_settings, **options.get("s3", {}))
    except BaseException:
        azure.close()
        raise
    return MigratingStorageClient(
        azure,
        s3,
        phase_source(settings),
        on_fallback=counters.fallback,
        on_secondary_failure=counters.second_write_failed,
    )


def phase_source(settings: Settings) -> Callable[[], MigrationPhase]:
    value = settings.storage_migration_phase.strip().lower()
    if value != "live":
        return fixed_phase(value)
    from crownsafe.db.session import make_engine

    engine = make_engine(settings.database_url.get(), pool_size=1, max_overflow=1)
    return LivePhase(engine, ttl=settings.storage_migration_phase_ttl)
