"""What the cut-over's migrating client costs a read (issue: the live cut-over).

Two comparisons, each timed in ONE interleaved loop (`harness.bench.interleaved`: one call
of every implementation per round, order rotating) with an A/A pair for its noise floor,
1 KiB objects on Azurite and moto:

    fallback_vs_s3      a read in `azure-reads` of an object only S3 has (Azure answers
                        404, then S3 is read) against a direct S3 read.
                        Goal: ops/s >= 0.5x, i.e. at most twice the direct latency.
    migrating_vs_azure  a read in `azure-reads` of a copied object (Azure answers)
                        against a direct Azure read. Goal: ops/s >= 0.95x (at most ~1.05x
                        the latency).

A/A pairs: direct S3 read twice (fallback), direct Azure read twice (migrating). Entries go
to `bench/ratios.json` under backend "azure" (the cut-over's target); under
`--benchmark-disable` (make test) the loops run a few rounds and only the plumbing is
checked, never a speed.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest
from bench_support import KIB, level, payload_bytes

from crownsafe.cutover.client import MigratingStorageClient
from crownsafe.cutover.phases import MigrationPhase
from crownsafe.errors import BlobNotFoundError
from crownsafe.storage.base import StorageClient
from harness import bench
from harness.bench import overhead
from harness.bench.overhead import RatioGoal
from harness.runfolder import merge_points
from harness.runfolder.bench import RatiosFile

ROUNDS = {"smoke": (4, 8, 8, 0.0), "quick": (20, 200, 1200, 12.0), "full": (40, 800, 6000, 60.0)}
FALLBACK = RatioGoal(
    "fallback_vs_s3", "migrating", "direct", 0.5, "cut-over: a fallback read <= 2x a direct S3 read"
)
COPIED = RatioGoal(
    "migrating_vs_azure",
    "migrating",
    "direct",
    0.95,
    "cut-over: a read of a copied object <= ~1.05x a direct Azure read",
)


@pytest.mark.parametrize(
    ("comparison", "holder"), [(FALLBACK, "s3"), (COPIED, "azure")], ids=["fallback", "copied"]
)
def test_migrating_read_cost(
    request: pytest.FixtureRequest,
    make_storage_client: Callable[..., StorageClient],
    comparison: RatioGoal,
    holder: str,
    run_dir: Path,
) -> None:
    """A read through the migrating client against the direct read of the store that has
    the object, interleaved, with an A/A pair of the direct read."""
    bench_level = level(request.config)
    warmup, least, most, budget_s = ROUNDS[bench_level]
    azure, s3 = make_storage_client("azure"), make_storage_client("s3")
    direct = azure if holder == "azure" else s3
    migrating = MigratingStorageClient(azure, s3, lambda: MigrationPhase.AZURE_READS)
    data = payload_bytes(KIB)
    direct.upload_file("cutover/blob.bin", data)
    calls = {
        "direct": partial(direct.download_blob, "cutover/blob.bin"),
        "migrating": partial(migrating.download_blob, "cutover/blob.bin"),
        "direct_again": partial(direct.download_blob, "cutover/blob.bin"),
    }
    assert {name: call() == data for name, call in calls.items()} == dict.fromkeys(calls, True)
    if holder == "s3":
        # the fallback's first step alone, in the same loop: Azure's 404
        calls["azure_miss"] = partial(_miss, azure, "cutover/blob.bin")
    assert azure.blob_exists("cutover/blob.bin") is (holder == "azure")
    samples = bench.interleaved(calls, least, warmup=warmup, budget_s=budget_s, max_rounds=most)
    entry = overhead.ratio_entry(
        comparison,
        samples,
        ("direct", "direct_again"),
        backend="azure",
        operation="download",
        size_bytes=KIB,
        warmup=warmup,
        measured=bench_level != "smoke",
    )
    if holder == "s3":
        entry["ceiling"] = fallback_ceiling(samples["direct"], samples["azure_miss"])
    path = merge_points(run_dir, RatiosFile, [{**entry, "profile": bench_level, "emulator": True}])
    ceiling = f", ceiling {entry['ceiling']:.3f}x" if entry.get("ceiling") else ""
    print(f"[cut-over] {comparison.name}: {entry['ratio']:.3f}x ({entry['verdict']}{ceiling})")
    stored = json.loads(path.read_text("utf-8"))["comparisons"]
    mine = [e for e in stored if e["comparison"] == comparison.name]
    assert len(mine) == 1 and mine[0]["goal"] == comparison.goal
    assert 0 < mine[0]["ci_low"] <= mine[0]["ratio"] <= mine[0]["ci_high"]
    assert bench_level != "smoke" or mine[0]["verdict"] == "undecided"
    if holder == "s3":
        assert 0 < mine[0]["ceiling"] < 1


def _miss(client: StorageClient, name: str) -> None:
    try:
        client.download_blob(name)
    except BlobNotFoundError:
        return
    raise AssertionError(f"{name} is on Azure: the fallback case needs it on S3 only")


def fallback_ceiling(direct_s: list[float], miss_s: list[float]) -> float:
    """The ratio a fallback read can reach at best: it is Azure's miss and then the S3 read,
    one after the other, so direct / (miss + direct) of the medians (same loop)."""
    direct, miss = statistics.median(direct_s), statistics.median(miss_s)
    return round(direct / (miss + direct), 4)
