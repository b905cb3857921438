"""What the storage metrics cost a 1 KiB call (issue: observability, "instrumentation costs
at most 2% of a 1 KiB storage call's ops/s").

One interleaved loop per backend and operation (`harness.bench.interleaved`, order
rotating), 1 KiB objects on Azurite and moto:

    instrumented     the resilient client as the app builds it (its metrics recorded on a
                     registry of this test: counters, the duration histogram, bytes)
    uninstrumented   the same resilient client with a metrics sink that records nothing
    instrumented_again   the A/A twin of `instrumented`, for the noise floor

The entry `instrumented_vs_not` (instrumented ops/s / uninstrumented ops/s, goal >= 0.98,
with its CI and the A/A noise floor) goes to `bench/ratios.json`. Under
`--benchmark-disable` (make test) only the plumbing is checked, never a speed.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import pytest
from bench_support import KIB, level, payload_bytes
from prometheus_client import CollectorRegistry

from crownsafe.resilience import CircuitBreaker
from crownsafe.storage.base import StorageClient
from crownsafe.storage.metrics import StorageMetrics
from crownsafe.storage.resilient import ResilientStorageClient
from harness import bench
from harness.bench import overhead
from harness.bench.overhead import RatioGoal
from harness.runfolder import merge_points
from harness.runfolder.bench import RatiosFile

ROUNDS = {"smoke": (4, 8, 8, 0.0), "quick": (20, 200, 1200, 10.0), "full": (40, 800, 6000, 60.0)}
COST = RatioGoal(
    "instrumented_vs_not",
    "instrumented",
    "uninstrumented",
    0.98,
    "issue 22: instrumentation <= 2% of a 1 KiB call",
)


class _NothingRecorded:
    """A client's metrics that record nothing: the resilient client without instrumentation."""

    def record(self, *args: Any) -> None:
        pass

    def count_uploaded(self, size: int) -> None:
        pass

    def count_downloaded(self, size: int) -> None:
        pass


class _Uninstrumented(StorageMetrics):
    def for_client(self, backend: str) -> Any:
        return _NothingRecorded()


def _resilient(bare: StorageClient, metrics: StorageMetrics) -> ResilientStorageClient:
    breaker = CircuitBreaker(f"bench-instrumentation-{id(metrics)}")
    return ResilientStorageClient(bare, breaker=breaker, metrics=metrics)


@pytest.mark.parametrize("operation", ["upload", "download"])
def test_instrumentation_cost(
    request: pytest.FixtureRequest,
    make_storage_client: Any,
    backend_name: str,
    operation: str,
    run_dir: Path,
) -> None:
    bench_level = level(request.config)
    warmup, least, most, budget_s = ROUNDS[bench_level]
    bare = make_storage_client(backend_name)
    exported = StorageMetrics(CollectorRegistry())
    clients = {
        "instrumented": _resilient(bare, exported),
        "uninstrumented": _resilient(bare, _Uninstrumented(CollectorRegistry())),
        "instrumented_again": _resilient(bare, exported),
    }
    data, name = payload_bytes(KIB), f"instrumentation/{operation}.bin"
    bare.upload_file(name, data)
    calls = {
        impl: partial(client.upload_file, name, data)
        if operation == "upload"
        else partial(client.download_blob, name)
        for impl, client in clients.items()
    }
    samples = bench.interleaved(calls, least, warmup=warmup, budget_s=budget_s, max_rounds=most)
    entry = overhead.ratio_entry(
        COST,
        samples,
        ("instrumented", "instrumented_again"),
        backend=backend_name,
        operation=operation,
        size_bytes=KIB,
        warmup=warmup,
        measured=bench_level != "smoke",
    )
    merge_points(run_dir, RatiosFile, [{**entry, "profile": bench_level, "emulator": True}])
    print(f"[instrumentation] {backend_name} {operation} 1 KiB: {entry['reason']}")
    recorded = {
        s.name: s.value
        for family in exported.registry.collect()
        for s in family.samples
        if s.name == "crownsafe_storage_operations_total"
        and s.labels.get("outcome") == "success"
        and s.labels.get("operation")
        == ("upload_file" if operation == "upload" else "download_blob")
    }
    rounds = len(samples["instrumented"])
    assert recorded and min(recorded.values()) >= 2 * rounds, "the instrumented clients recorded"
    assert 0 < entry["ci_low"] <= entry["ratio"] <= entry["ci_high"]
    assert bench_level != "smoke" or entry["verdict"] == "undecided"
