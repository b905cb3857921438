"""The resilience wrapper's cost per call, old against new, in ONE interleaved loop.

    PYTHONPATH=$PWD:<dir> .venv/bin/python benchmarks/wrapper_cost.py azure,s3 30 [--no-gc]

times, per backend and 1 KiB upload and download: the bare client, the same client inside
the current `ResilientStorageClient`, inside an older one (importable as
`crownsafe_before` from <dir>: a `git archive` of an older commit's `crownsafe/` whose
imports were renamed, see docs/storage-performance.md), and a second bare client (the A/A
pair). It prints the ratios of medians with 95% bootstrap CIs of wall time and of the
calling thread's CPU time: the CPU ratio is what the wrapper itself costs, and it stays
readable on a loaded machine where the wall ratio's A/A floor does not. `--no-gc` turns the
collector off (the SDK's per-call cyclic garbage is collected inside whichever call crosses
the threshold, in an interleaved loop the wrapped one). Not a pytest test: a tool for the
numbers in docs/storage-performance.md. Without `crownsafe_before` it times the new one only.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from crownsafe.resilience import CircuitBreaker
from crownsafe.storage.resilient import ResilientStorageClient
from harness.bench import interleaved
from harness.bench.stats import ratio_of_medians
from harness.fixtures.storage import build_storage_client
from harness.services.provision import start_services

DATA = b"x" * 1024


def wrappers(bare: Any) -> dict[str, Any]:
    """The wrapped clients to time: "new" and, when importable, "old"."""
    found = {"new": ResilientStorageClient(bare, breaker=CircuitBreaker("new"))}
    try:
        from crownsafe_before.resilience import (  # type: ignore[import-not-found]
            CircuitBreaker as OldBreaker,
        )
        from crownsafe_before.storage.resilient import (  # type: ignore[import-not-found]
            ResilientStorageClient as Old,
        )
    except ImportError:
        return found
    return {"old": Old(bare, breaker=OldBreaker("old")), **found}


def main(argv: list[str]) -> None:
    backends, budget = argv[0].split(","), float(argv[1])
    if "--no-gc" in argv:
        gc.disable()
    with start_services(backends, "local") as services:
        for backend in backends:
            bare = build_storage_client(services, backend, f"cost{backend}")
            bare.create_container(exist_ok=True)
            bare_again = build_storage_client(services, backend, f"cost{backend}")
            bare.upload_file("a.bin", DATA)
            clients = {"bare": bare, **wrappers(bare), "bare_again": bare_again}
            for operation in ("upload", "download"):
                cpu: dict[str, list[float]] = {name: [] for name in clients}

                def timed(sink: list[float], call: Callable[[], object]) -> Callable[[], None]:
                    def run() -> None:
                        began = time.thread_time()
                        call()
                        sink.append(time.thread_time() - began)

                    return run

                calls = {
                    name: timed(
                        cpu[name],
                        partial(c.upload_file, "a.bin", DATA)
                        if operation == "upload"
                        else partial(c.download_blob, "a.bin"),
                    )
                    for name, c in clients.items()
                }
                wall = interleaved(calls, 400, warmup=40, budget_s=budget, max_rounds=20000)
                medians = " ".join(f"{k} {statistics.median(v) * 1e6:.0f}" for k, v in wall.items())
                print(
                    f"{backend} {operation} 1 KiB, {len(wall['bare'])} rounds, wall us: {medians}"
                )
                for name in clients:
                    if name == "bare":
                        continue
                    w = ratio_of_medians(wall["bare"], wall[name], paired=True, seed=0)
                    c = ratio_of_medians(cpu["bare"], cpu[name], paired=True, seed=0)
                    print(
                        f"  {name}/bare ops/s: wall {w.value:.3f} [{w.low:.3f}, {w.high:.3f}], "
                        f"cpu {c.value:.3f} [{c.low:.3f}, {c.high:.3f}]",
                        flush=True,
                    )


if __name__ == "__main__":
    main(sys.argv[1:])
