"""The SAS URL cache against minting each URL (the seed's Phase 4 cache; issue: security).

One interleaved loop per case (`harness.bench.interleaved`), 1 call of each per round:

    generate   client.generate_sas_url(blob, 5 minutes, "r")  (a local HMAC)
    cached     SasUrlCache.get_or_mint(...) on the harness's real Redis, warm (a hit:
               one GET round trip)
    generate_again   the A/A twin of `generate`, for the noise floor

Cases: Azure with the account key (Azurite), S3 presign (moto), and an Azure user
delegation SAS (HTTPS Azurite with OAuth, a token credential: the delegation key is
fetched once and then cached in the client, so each SAS is again a local HMAC). The
entry `sas_cache_vs_generate` (cached ops/s / generate ops/s, with its CI) goes to
`bench/ratios.json`; its goal is informational (0): SAS_CACHE's default follows it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest
import redis
from bench_support import level

from crownsafe.storage.azure import AzureBlobStorageClient
from crownsafe.storage.base import StorageClient
from crownsafe.storage.sas_cache import SasUrlCache
from harness import bench
from harness.bench import overhead
from harness.bench.overhead import RatioGoal
from harness.identity import FakeTokenCredential
from harness.runfolder import merge_points
from harness.runfolder.bench import RatiosFile
from harness.services.azurite import AzuriteService
from harness.services.redis import RedisService

ROUNDS = {"smoke": (4, 8, 8, 0.0), "quick": (50, 300, 3000, 8.0), "full": (100, 1000, 20000, 30.0)}
CACHE = RatioGoal(
    "sas_cache_vs_generate",
    "cached",
    "generate",
    0.0,
    "informational: SAS_CACHE's default follows it (on only if the cache is faster)",
)


@pytest.fixture(scope="module")
def delegation_client() -> Iterator[StorageClient]:
    """A user-delegation-SAS client on an HTTPS, OAuth Azurite of this module."""
    with AzuriteService("local", oauth=True) as service:
        client = AzureBlobStorageClient(
            f"sas-{uuid.uuid4().hex[:12]}",
            account_url=service.blob_endpoint,
            credential=FakeTokenCredential(),
            connection_verify=str(service.cert_path),
        )
        client.create_container()
        try:
            yield client
        finally:
            client.delete_container()
            client.close()


@pytest.mark.parametrize("case", ["azure-account-key", "s3-presign", "azure-user-delegation"])
def test_sas_cache_against_generating(
    request: pytest.FixtureRequest,
    make_storage_client: Callable[..., StorageClient],
    redis_service: RedisService,
    case: str,
    run_dir: Path,
) -> None:
    bench_level = level(request.config)
    warmup, least, most, budget_s = ROUNDS[bench_level]
    if case == "azure-user-delegation":
        client = request.getfixturevalue("delegation_client")
    else:
        client = make_storage_client("azure" if case.startswith("azure") else "s3")
    connection = redis.Redis.from_url(redis_service.url)
    cache = SasUrlCache(connection, namespace=f"bench-{uuid.uuid4().hex[:8]}", min_lifetime_s=60)
    mint = partial(client.generate_sas_url, "bench/sas.bin", 300 / 3600, "r")
    calls = {
        "generate": mint,
        "cached": partial(cache.get_or_mint, "bench/sas.bin", "r", 300, mint),
        "generate_again": mint,
    }
    first = calls["cached"]()
    assert calls["cached"]() == first, "the second call is a cache hit"
    assert "bench/sas.bin" in first and first != ""
    samples = bench.interleaved(calls, least, warmup=warmup, budget_s=budget_s, max_rounds=most)
    backend = "s3" if case.startswith("s3") else "azure"
    entry = overhead.ratio_entry(
        CACHE,
        samples,
        ("generate", "generate_again"),
        backend=backend,
        operation=f"sas ({case})",
        size_bytes=0,
        warmup=warmup,
        measured=bench_level != "smoke",
    )
    merge_points(run_dir, RatiosFile, [{**entry, "profile": bench_level, "emulator": True}])
    faster = "cache" if entry["ratio"] > 1 else "generating"
    print(
        f"[sas cache] {case}: cached/generate ops/s {entry['ratio']:.3f}x "
        f"CI [{entry['ci_low']:.3f}, {entry['ci_high']:.3f}]: {faster} is faster"
    )
    assert 0 < entry["ci_low"] <= entry["ratio"] <= entry["ci_high"]
    connection.close()
