"""What the resilience layer costs: bare client vs `ResilientStorageClient`, 1 KiB ops.

Goal (issue 3): the resilient client keeps >= 0.95x the bare client's ops/s. Two views,
both in one run against the same emulator and container:

- pytest-benchmark groups `resilience-<op>-1KiB[<backend>]` with `impl` = bare | resilient;
- an interleaved loop (ABBA order per round, so drift hits both alike) whose medians and
  ratio go to `bench/resilience_overhead.json` in the run folder.

No fault is injected: this is the price of the breaker, the retry wrapper (tenacity), the
correlation scope and the bookkeeping on the happy path. Emulator numbers.
Runs as a plain test too (`--benchmark-disable`): a few rounds, results checked.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from bench_support import measuring

from crownsafe.resilience import CircuitBreaker
from crownsafe.storage.base import StorageClient
from crownsafe.storage.resilient import ResilientStorageClient
from harness import benchkit

SIZE = 1024
DATA = random.Random(3).randbytes(SIZE)
ROUNDS, SMOKE_ROUNDS = 300, 5


@pytest.fixture
def resilient(storage_client: StorageClient) -> ResilientStorageClient:
    """The same bare client, wrapped as the factory wraps it (default retry settings)."""
    return ResilientStorageClient(
        storage_client, breaker=CircuitBreaker(f"bench-{storage_client.backend}")
    )


NAME = "overhead/blob.bin"  # one blob for both clients: only the wrapper differs


def _ops(client: StorageClient) -> dict[str, Callable[[], object]]:
    name = NAME
    client.upload_file(name, DATA)
    return {
        "upload": lambda: client.upload_file(name, DATA),
        "download": lambda: client.download_blob(name),
    }


def _label(benchmark: Any, op: str, impl: str, backend: str) -> None:
    benchmark.group = f"resilience-{op}-1KiB[{backend}]"
    benchmark.extra_info.update(
        {"op": op, "impl": impl, "backend": backend, "size_bytes": SIZE, "emulator": True}
    )


@pytest.mark.parametrize("op", ["upload", "download"])
@pytest.mark.parametrize("impl", ["bare", "resilient"])
def test_resilience_overhead_1kib(
    benchmark: Any,
    storage_client: StorageClient,
    resilient: ResilientStorageClient,
    impl: str,
    op: str,
) -> None:
    """One 1 KiB operation through the bare or the resilient client."""
    client = storage_client if impl == "bare" else resilient
    _label(benchmark, op, impl, storage_client.backend)
    result = benchmark(_ops(client)[op])
    if op == "download":
        assert result == DATA
    assert storage_client.download_blob(NAME) == DATA


def test_resilience_overhead_interleaved(
    request: pytest.FixtureRequest,
    storage_client: StorageClient,
    resilient: ResilientStorageClient,
    backend_name: str,
    run_dir: Path,
) -> None:
    """Bare and resilient alternating in one loop; the ops/s ratio goes to the run folder."""
    rounds = ROUNDS if measuring(request.config) else SMOKE_ROUNDS
    bare_ops, resilient_ops = _ops(storage_client), _ops(resilient)
    entries = []
    for op in ("upload", "download"):
        samples = benchkit.interleaved(
            {"bare": bare_ops[op], "resilient": resilient_ops[op]}, rounds, warmup=5
        )
        bare_median = statistics.median(samples["bare"])
        resilient_median = statistics.median(samples["resilient"])
        ratio = bare_median / resilient_median
        entries.append(
            {"backend": backend_name, "operation": op, "size_bytes": SIZE, "rounds": rounds,
             "bare_median_s": bare_median, "resilient_median_s": resilient_median,
             "ops_per_s_ratio": ratio, "goal": 0.95, "emulator": True,
             "bare_s": samples["bare"], "resilient_s": samples["resilient"]}
        )  # fmt: skip
        print(
            f"[{backend_name}] {op} 1 KiB: bare {bare_median * 1e3:.3f} ms, resilient "
            f"{resilient_median * 1e3:.3f} ms, ops/s ratio {ratio:.3f} (goal >= 0.95)"
        )
        assert len(samples["bare"]) == len(samples["resilient"]) == rounds
    benchkit.merge_json(
        run_dir, "bench/resilience_overhead.json", "runs", entries, ("backend", "operation")
    )
    stats = resilient.stats()
    assert stats["upload_file"]["attempts"] == stats["upload_file"]["calls"]  # no retries
    assert stats["download_blob"]["failed"] == 0
