"""Storage used against the quota: the periodic worker task sums the configured
container's blob sizes through the client's listing and sets `crownsafe_storage_used_bytes`;
the Celery beat schedule runs it every STORAGE_USAGE_INTERVAL_SECONDS."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from prometheus_client import CollectorRegistry

from crownsafe.config import load_settings
from crownsafe.errors import StorageConfigError, StorageUnavailableError
from crownsafe.storage.base import BlobInfo
from crownsafe.storage.metrics import StorageMetrics
from crownsafe.storage.usage import measure_storage_usage
from crownsafe.tasks.celery_app import MEASURE_STORAGE_USAGE, create_celery

BROKER = {"REDIS_URL": "redis://127.0.0.1:1/0"}


class ListingFake:
    """Lists `sizes` (as blobs n0, n1, ...); `fail` raises from the listing instead."""

    backend = "azure"
    container_name = "images"

    def __init__(self, sizes: list[int], fail: BaseException | None = None) -> None:
        self.sizes, self.fail = sizes, fail
        self.listed: list[str | None] = []

    def iter_blobs(
        self, prefix: str | None = None, page_size: int | None = None
    ) -> Iterator[BlobInfo]:
        self.listed.append(prefix)
        if self.fail is not None:
            raise self.fail
        for n, size in enumerate(self.sizes):
            yield BlobInfo(name=f"n{n}", size=size)


def used(registry: CollectorRegistry, backend: str = "azure") -> float | None:
    return registry.get_sample_value("crownsafe_storage_used_bytes", {"backend": backend})


def test_the_gauge_is_the_sum_of_the_container_blob_sizes() -> None:
    registry = CollectorRegistry()
    metrics = StorageMetrics(registry)
    fake = ListingFake([100, 250, 0, 4096])
    usage = measure_storage_usage(fake, metrics)  # type: ignore[arg-type]
    assert (usage.backend, usage.container, usage.blobs, usage.used_bytes) == (
        "azure",
        "images",
        4,
        4446,
    )
    assert fake.listed == [None]  # the whole container, no prefix
    assert used(registry) == 4446
    fake.sizes = [10]
    measure_storage_usage(fake, metrics)  # type: ignore[arg-type]
    assert used(registry) == 10  # it follows deletions down, not only up


def test_an_empty_container_is_zero_not_absent() -> None:
    registry = CollectorRegistry()
    measure_storage_usage(ListingFake([]), StorageMetrics(registry))  # type: ignore[arg-type]
    assert used(registry) == 0


def test_a_failed_listing_leaves_the_last_value_and_raises() -> None:
    registry = CollectorRegistry()
    metrics = StorageMetrics(registry)
    measure_storage_usage(ListingFake([7]), metrics)  # type: ignore[arg-type]
    broken = ListingFake([1, 2], fail=StorageUnavailableError("down", status=503))
    with pytest.raises(StorageUnavailableError):
        measure_storage_usage(broken, metrics)  # type: ignore[arg-type]
    assert used(registry) == 7


def test_beat_runs_the_measurement_every_interval_and_drops_stale_runs() -> None:
    app = create_celery(load_settings({**BROKER, "STORAGE_USAGE_INTERVAL_SECONDS": "120"}))
    entry = app.conf.beat_schedule["storage-usage"]
    assert entry["task"] == MEASURE_STORAGE_USAGE
    assert entry["schedule"] == timedelta(seconds=120)
    assert entry["options"]["expires"] == 120
    app.close()
    default = create_celery(load_settings(BROKER))
    assert default.conf.beat_schedule["storage-usage"]["schedule"] == timedelta(seconds=300)
    default.close()


def test_interval_zero_turns_the_measurement_off_and_negative_is_refused() -> None:
    app = create_celery(load_settings({**BROKER, "STORAGE_USAGE_INTERVAL_SECONDS": "0"}))
    assert "storage-usage" not in (app.conf.beat_schedule or {})
    app.close()
    with pytest.raises(StorageConfigError, match="STORAGE_USAGE_INTERVAL_SECONDS=-1"):
        load_settings({**BROKER, "STORAGE_USAGE_INTERVAL_SECONDS": "-1"})
