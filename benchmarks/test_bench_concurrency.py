"""Concurrency sweep: uploads through crownsafe's client at 1, 4, 16 and 64 workers.

Gives ops/s and MB/s per size and backend, and the knee (the worker count after which
more workers gain less than 10%), into `bench/concurrency.json`. One client is shared
by all workers, as an application would share it. Under `--benchmark-disable` the sweep
is 1 and 4 workers with a few operations each.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from bench_support import KIB, MIB, measuring, payload_bytes

from crownsafe.storage.base import StorageClient
from harness import bench
from harness.bench import stats
from harness.runfolder import merge_points
from harness.runfolder.bench import ConcurrencyFile

WORKERS = (1, 4, 16, 64)
SMOKE_WORKERS = (1, 4)


def ops_per_point(size: int, measure: bool) -> Callable[[int], int]:
    if not measure:
        return lambda w: 2 * w
    if size >= MIB:
        return lambda w: max(48, 3 * w)
    return lambda w: max(300, 8 * w)


@pytest.mark.parametrize("sweep_size", [KIB, MIB], ids=["1KiB", "1MiB"])
def test_upload_concurrency_sweep(
    request: pytest.FixtureRequest,
    make_storage_client: Callable[..., StorageClient],
    backend_name: str,
    sweep_size: int,
    run_dir: Path,
) -> None:
    """Every upload of the sweep lands; throughput per worker count is recorded."""
    measure = measuring(request.config)
    client = make_storage_client(backend_name)
    data = payload_bytes(sweep_size)

    def upload(slot: int, i: int) -> None:
        client.upload_file(f"sweep/{slot:02d}.bin", data)

    points = bench.sweep(
        upload,
        WORKERS if measure else SMOKE_WORKERS,
        ops_per_point(sweep_size, measure),
        backend=backend_name,
        operation="upload",
        size_bytes=sweep_size,
    )
    merge_points(run_dir, ConcurrencyFile, points)
    knee = stats.knee([p.workers for p in points], [p.ops_per_s for p in points])
    where = (
        f"knee at {knee.workers} workers" if knee.reached else "knee not reached (still growing)"
    )
    print(f"[{backend_name}] upload {sweep_size} B: {where}, best at {knee.best_workers}; "
          + ", ".join(f"{p.workers}w {p.ops_per_s:.0f} ops/s" for p in points))  # fmt: skip
    assert all(p.ops_per_s > 0 for p in points)
    slots = max(p.workers for p in points)
    stored = {b.name for b in client.list_blobs(prefix="sweep/")}
    assert stored == {f"sweep/{s:02d}.bin" for s in range(slots)}
    assert client.download_blob("sweep/00.bin") == data
