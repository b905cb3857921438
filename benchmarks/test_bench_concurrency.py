"""Concurrency sweeps through crownsafe's client at 1, 4, 16 and 64 workers (threads).

`test_upload_concurrency_sweep`: ops/s and MB/s per size and backend, and the knee (the
worker count after which more workers gain less than 10%), into `bench/concurrency.json`.
One client is shared by all workers, as an application would share it.

`test_pool_size_sweep` (issue 19, the seed's Phase 4.3 "connection pooling"): 1 KiB
uploads and downloads at 1, 4, 16 and 64 workers against clients whose connection pool
(`max_connections`, STORAGE_MAX_CONNECTIONS) holds 4, 10, 32 or 64 connections, into
`bench/pool.json`; the default pool size was chosen from it (docs/storage-performance.md,
"Connection pool"). Every (pool size, workers) point is measured once per round (3 rounds
at the quick level), the pool sizes' order alternating, and its ops/s is the median of its
rounds: on a shared machine a burst of other work then moves one round, not the verdict.

Under `--benchmark-disable` (make test) the sweeps are 1 and 4 workers with a few
operations each (the pool sweep: pool sizes 4 and 10, a few seconds in all).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from pathlib import Path

import pytest
from bench_support import KIB, MIB, level, measuring, payload_bytes

from crownsafe.resilience import CircuitBreaker
from crownsafe.storage.base import StorageClient
from crownsafe.storage.resilient import ResilientStorageClient
from harness import bench
from harness.bench import stats
from harness.runfolder import merge_points
from harness.runfolder.bench import ConcurrencyFile, PoolFile, PoolPoint, SweepPoint

WORKERS = (1, 4, 16, 64)
SMOKE_WORKERS = (1, 4)
POOL_SIZES = {"smoke": (4, 10), "quick": (4, 10, 32, 64), "full": (4, 10, 32, 64)}
POOL_WORKERS = {"smoke": SMOKE_WORKERS, "quick": WORKERS, "full": WORKERS}


POOL_ROUNDS = {"smoke": 1, "quick": 3, "full": 5}


def pool_ops(bench_level: str) -> Callable[[int], int]:
    """Operations per pool-sweep point and round: every worker makes at least 2."""
    if bench_level == "smoke":
        return lambda w: 2 * w
    if bench_level == "quick":
        return lambda w: max(40, 2 * w)
    return lambda w: max(150, 4 * w)


def pool_orders(
    workers: tuple[int, ...], pools: tuple[int, ...], rounds: int
) -> list[tuple[int, int]]:
    """(workers, pool size) in measuring order: every point once per round, the pool sizes
    ascending, then descending at the next worker count, the rounds alternating too, so
    drift and warm-up hit every pool size alike."""
    order = []
    for r in range(rounds):
        for i, w in enumerate(workers):
            order += [(w, pool) for pool in (pools if (i + r) % 2 == 0 else pools[::-1])]
    return order


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


def retries_so_far(client: ResilientStorageClient, call: str) -> int:
    """Attempts beyond the first of `call` made by `client` so far."""
    counts = client.stats().get(call, {})
    return counts.get("attempts", 0) - counts.get("calls", 0)


@pytest.mark.parametrize("operation", ["upload", "download"])
def test_pool_size_sweep(
    request: pytest.FixtureRequest,
    make_storage_client: Callable[..., StorageClient],
    backend_name: str,
    operation: str,
    run_dir: Path,
) -> None:
    """1 KiB ops/s per (pool size, workers); every operation lands or is read intact."""
    bench_level = level(request.config)
    pools, workers = POOL_SIZES[bench_level], POOL_WORKERS[bench_level]
    owner = make_storage_client(backend_name)
    bare = {
        pool: make_storage_client(
            backend_name, container=owner.container_name, max_connections=pool
        )
        for pool in pools
    }
    assert {pool: getattr(c, "max_connections", None) for pool, c in bare.items()} == {
        pool: pool for pool in pools
    }
    # as the factory builds it: a connection reset under load is retried, and counted
    clients = {
        pool: ResilientStorageClient(c, breaker=CircuitBreaker(f"pool-{backend_name}-{pool}"))
        for pool, c in bare.items()
    }
    data = payload_bytes(KIB)
    call = "upload_file" if operation == "upload" else "download_blob"
    slots = max(workers)
    if operation == "download":
        for slot in range(slots):
            owner.upload_file(f"pool/{slot:02d}.bin", data)
    rounds = POOL_ROUNDS[bench_level]
    measured: dict[tuple[int, int], list[SweepPoint]] = {}
    retries: dict[tuple[int, int], int] = {}
    for w, pool in pool_orders(workers, pools, rounds):
        client = clients[pool]

        def op(slot: int, i: int, client: ResilientStorageClient = client) -> None:
            if operation == "upload":
                client.upload_file(f"pool/{slot:02d}.bin", data)
            elif client.download_blob(f"pool/{slot:02d}.bin") != data:
                raise AssertionError(f"pool/{slot:02d}.bin came back different")

        before = retries_so_far(client, call)
        measured.setdefault((pool, w), []).extend(
            bench.sweep(
                op, [w], pool_ops(bench_level), backend=backend_name, operation=operation,
                size_bytes=KIB,
            )
        )  # fmt: skip
        retries[pool, w] = retries.get((pool, w), 0) + retries_so_far(client, call) - before
    points = [
        PoolPoint(
            backend=backend_name,
            operation=operation,
            size_bytes=KIB,
            max_connections=pool,
            workers=w,
            rounds=len(runs),
            ops=sum(r.ops for r in runs),
            seconds=round(sum(r.seconds for r in runs), 6),
            ops_per_s=round(statistics.median(r.ops_per_s for r in runs), 3),
            retries=retries[pool, w],
            measured=bench_level != "smoke",
        )
        for (pool, w), runs in sorted(measured.items())
    ]
    merge_points(run_dir, PoolFile, points)
    for pool in pools:
        line = ", ".join(
            f"{p.workers}w {p.ops_per_s:.0f}"
            for p in sorted(points, key=lambda q: q.workers)
            if p.max_connections == pool
        )
        retried = sum(p.retries for p in points if p.max_connections == pool)
        print(f"[{backend_name}] {operation} 1 KiB, pool {pool}: {line} ops/s; {retried} retries")
    assert len(points) == len(pools) * len(workers)
    assert all(
        p.ops_per_s > 0
        and p.rounds == rounds
        and p.ops == rounds * pool_ops(bench_level)(p.workers)
        for p in points
    )
    stored = {b.name for b in owner.list_blobs(prefix="pool/")}
    assert stored == {f"pool/{s:02d}.bin" for s in range(slots)}
    assert owner.download_blob("pool/00.bin") == data
