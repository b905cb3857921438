"""Storage used against the quota: the configured container's total size, for the
`CrownsafeStorageQuotaNearlyFull` alert (`crownsafe_storage_used_bytes` over
`crownsafe_storage_quota_bytes`).

Measured by a periodic worker task (`crownsafe.measure_storage_usage`, run by Celery beat
every STORAGE_USAGE_INTERVAL_SECONDS), never per request: it lists the whole container,
which costs one listing call per 1,000 (S3) or 5,000 (Azure) blobs. Neither service
reports a container's size cheaply (Azure's account metrics lag by an hour and cover the
account, S3's CloudWatch size metric is daily), so the listing is the one measurement that
is current and the same on both backends.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from crownsafe.storage.base import StorageClient
from crownsafe.storage.metrics import StorageMetrics, storage_metrics

__all__ = ["StorageUsage", "measure_storage_usage"]

log = logging.getLogger("crownsafe.storage.usage")


@dataclass(frozen=True)
class StorageUsage:
    """One measurement: the container's blob count and total bytes."""

    backend: str
    container: str
    blobs: int
    used_bytes: int


def measure_storage_usage(
    client: StorageClient, metrics: StorageMetrics | None = None
) -> StorageUsage:
    """Sum the sizes of every blob in `client`'s container and set the used-bytes gauge.

    A listing that fails raises (the task logs it; the next run tries again) and leaves
    the gauge at its last value rather than a partial sum, which would look like a drop.
    """
    blobs = used = 0
    for info in client.iter_blobs():
        blobs += 1
        used += info.size
    (metrics or storage_metrics()).set_used(client.backend, used)
    usage = StorageUsage(client.backend, client.container_name, blobs, used)
    log.info(
        "storage usage: backend=%s container=%s blobs=%d used_bytes=%d",
        usage.backend,
        usage.container,
        usage.blobs,
        usage.used_bytes,
        extra={"event": "storage_usage", **usage.__dict__},
    )
    return usage
