"""The async storage clients against the sync clients in a worker thread (the API's bridge).

The API calls the sync clients in a worker thread (`anyio.to_thread.run_sync`, as
`crownsafe/api/state.py` does, beside `crownsafe/api/_bridge.py` for streamed bodies).
This compares that path with the async clients awaited on the event loop, for the
decision whether the API should move to them:

- operations: upload and download of 1 KiB and 1 MiB;
- concurrency: 1 and 16 calls at once (one batch = `concurrency` calls gathered on one
  event loop; a sample is the batch's wall time);
- both clients behind the resilience layer (`AsyncResilientStorageClient` /
  `ResilientStorageClient`, each on a fresh breaker), as the API would hold them, on the
  same container and data;
- the two paths alternate ABBA per round in one loop (`bench.interleaved`), so drift and
  load fall on both alike.

Into `bench/async.json` (`AsyncClientsFile`): wall-time samples per path and the
benchmark process's CPU seconds per call (all its threads: `time.process_time`); the
printed ratio is median(thread) / median(async) with its bootstrap CI (> 1: the async
client is faster). The emulator's own CPU is not counted (another process).
Under `--benchmark-disable` each case runs 3 rounds.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio.to_thread
import pytest
from bench_support import KIB, MIB, measuring, payload_bytes

from crownsafe.resilience import CircuitBreaker
from crownsafe.storage.base import StorageClient
from crownsafe.storage.resilient import ResilientStorageClient
from crownsafe.storage.resilient_async import AsyncResilientStorageClient
from harness import bench
from harness.bench import stats
from harness.fixtures.storage import build_async_storage_client
from harness.runfolder import merge_points
from harness.runfolder.bench import AsyncClientsFile
from harness.services.provision import ProvisionedServices

SIZES = (KIB, MIB)
CONCURRENCY = (1, 16)
SMOKE_ROUNDS = 3


def _rounds(request: pytest.FixtureRequest, size: int, concurrency: int) -> int:
    if not measuring(request.config):
        return SMOKE_ROUNDS
    return 20 if size >= MIB and concurrency > 1 else 40


def _batch(call: Callable[[int], Awaitable[object]], concurrency: int) -> Callable[[], Any]:
    async def batch() -> None:
        await asyncio.gather(*(call(i) for i in range(concurrency)))

    return batch


@pytest.mark.parametrize("operation", ["upload", "download"])
def test_async_client_against_the_thread_bridge(
    request: pytest.FixtureRequest,
    make_storage_client: Callable[..., StorageClient],
    storage_services: ProvisionedServices,
    backend_name: str,
    operation: str,
    run_dir: Path,
) -> None:
    """Both paths move the same bytes; their interleaved samples are recorded per case."""
    bare = make_storage_client(backend_name, max_concurrency=4)
    sync = ResilientStorageClient(bare, breaker=CircuitBreaker("bench-sync", failure_threshold=50))
    inner = build_async_storage_client(storage_services, backend_name, bare.container_name)
    aclient = AsyncResilientStorageClient(
        inner, breaker=CircuitBreaker("bench-async", failure_threshold=50)
    )
    loop = asyncio.new_event_loop()
    points: list[dict[str, Any]] = []
    try:
        # both clients connected and their SDK models loaded before anything is measured
        assert loop.run_until_complete(aclient.blob_exists("async-bench/none")) is False
        assert sync.blob_exists("async-bench/none") is False
        for size in SIZES:
            data = payload_bytes(size)
            name = f"async-bench/{operation}-{size}"
            if operation == "download":
                sync.upload_file(name, data)

            def by_thread(i: int, name: str = name, data: bytes = data) -> Awaitable[object]:
                if operation == "upload":
                    call = functools.partial(sync.upload_file, f"{name}-t{i}", data)
                else:
                    call = functools.partial(sync.download_blob, name)
                return anyio.to_thread.run_sync(call)

            def by_loop(i: int, name: str = name, data: bytes = data) -> Awaitable[object]:
                if operation == "upload":
                    return aclient.upload_file(f"{name}-a{i}", data)
                return aclient.download_blob(name)

            for concurrency in CONCURRENCY:
                paths = {
                    "async": _batch(by_loop, concurrency),
                    "thread": _batch(by_thread, concurrency),
                }
                cpu = dict.fromkeys(paths, 0.0)
                calls = dict.fromkeys(paths, 0)
                samples = bench.interleaved(
                    {
                        key: functools.partial(_run, loop, batch, cpu, calls, key, concurrency)
                        for key, batch in paths.items()
                    },
                    _rounds(request, size, concurrency),
                )
                point = {"backend": backend_name, "operation": operation, "size_bytes": size,
                         "concurrency": concurrency, "async_s": samples["async"],
                         "thread_s": samples["thread"],
                         "async_cpu_s_per_call": cpu["async"] / calls["async"],
                         "thread_cpu_s_per_call": cpu["thread"] / calls["thread"]}  # fmt: skip
                points.append(point)
                ratio = stats.ratio_of_medians(samples["thread"], samples["async"])
                print(f"[{backend_name}] {operation} {size} B x{concurrency}: thread/async "
                      f"{ratio.value:.3f} [{ratio.low:.3f}, {ratio.high:.3f}], CPU per call "
                      f"async {point['async_cpu_s_per_call'] * 1e3:.2f} ms, thread "
                      f"{point['thread_cpu_s_per_call'] * 1e3:.2f} ms")  # fmt: skip
            if operation == "download":
                assert loop.run_until_complete(aclient.download_blob(name)) == data
            else:
                assert sync.download_blob(f"{name}-a0") == data == sync.download_blob(f"{name}-t0")
    finally:
        loop.run_until_complete(aclient.close())
        loop.close()
    merge_points(run_dir, AsyncClientsFile, points)
    expected = len(SIZES) * len(CONCURRENCY)
    assert len(points) == expected
    assert all(len(p["async_s"]) == len(p["thread_s"]) > 0 for p in points)


def _run(
    loop: asyncio.AbstractEventLoop,
    batch: Callable[[], Any],
    cpu: dict[str, float],
    calls: dict[str, int],
    key: str,
    concurrency: int,
) -> None:
    """Run one batch; add the process's CPU time (every thread) to `cpu[key]`."""
    began = time.process_time()
    loop.run_until_complete(batch())
    cpu[key] += time.process_time() - began
    calls[key] += concurrency
