"""Every operation of the migration write-up's benchmark table and more, crownsafe's
client beside the raw SDK.

Upload and download at 1 KiB, 1 MiB, 10 MiB and 100 MiB (1 KiB and 1 MiB only under
`--benchmark-disable`), SAS / presigned URL generation, list 100 blobs, head and delete,
for each backend chosen with --backends and each implementation (`impl`: crownsafe |
sdk). Objects of 16 MiB and more are streamed from a file and downloaded to a file.
Emulator numbers: they compare client stacks, not clouds.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from bench_support import FILE_THRESHOLD, MIB, Ops, label, payload_bytes

from crownsafe.storage.base import StorageClient

IMPLS = ["crownsafe", "sdk"]
StorageFactory = Callable[..., StorageClient]


def rounds_for(size: int) -> int:
    """Fixed rounds for big objects (auto-calibration would spend minutes on them)."""
    return 5 if size >= 100 * MIB else 10 if size >= 10 * MIB else 0


def run(benchmark: Any, fn: Callable[..., Any], *args: Any, size: int = 0) -> Any:
    rounds = rounds_for(size)
    if rounds:
        return benchmark.pedantic(fn, args=args, rounds=rounds, iterations=1, warmup_rounds=1)
    return benchmark(fn, *args)


@pytest.fixture
def client(make_storage_client: StorageFactory, backend_name: str) -> StorageClient:
    return make_storage_client(backend_name)


@pytest.fixture
def ops(request: pytest.FixtureRequest, ops_for: Any, client: StorageClient) -> Ops:
    impl: str = request.node.callspec.params["impl"]
    result: Ops = ops_for(impl, client)
    return result


@pytest.mark.parametrize("impl", IMPLS)
def test_upload(
    benchmark: Any, ops: Ops, client: StorageClient, impl: str, size: int,
    payload_file: Callable[[int], Path],
) -> None:  # fmt: skip
    """Upload one object (overwriting one name each round)."""
    label(benchmark, "upload", client.backend, impl, size)
    data: bytes | Path = payload_file(size) if size >= FILE_THRESHOLD else payload_bytes(size)
    run(benchmark, ops.upload, "bench/upload.bin", data, size=size)
    assert client.head_object("bench/upload.bin").size == size


@pytest.mark.parametrize("impl", IMPLS)
def test_download(
    benchmark: Any, ops: Ops, client: StorageClient, impl: str, size: int,
    payload_file: Callable[[int], Path], tmp_path: Path,
) -> None:  # fmt: skip
    """Download one object (into memory below 16 MiB, to a file from 16 MiB)."""
    label(benchmark, "download", client.backend, impl, size)
    if size >= FILE_THRESHOLD:
        client.upload_file("bench/download.bin", payload_file(size))
        target = tmp_path / "download.bin"
        assert run(benchmark, ops.download_to, "bench/download.bin", target, size=size) == size
        assert target.stat().st_size == size
    else:
        client.upload_file("bench/download.bin", payload_bytes(size))
        assert run(benchmark, ops.download, "bench/download.bin", size=size) == payload_bytes(size)


@pytest.mark.parametrize("impl", IMPLS)
def test_sas(benchmark: Any, ops: Ops, client: StorageClient, impl: str) -> None:
    """Generate a read-only SAS / presigned GET URL (local signing, no request)."""
    label(benchmark, "sas", client.backend, impl, None)
    url = benchmark(ops.sas, "bench/sas.bin")
    assert url.startswith(("http://", "https://")) and "bench/sas.bin" in url
    assert ("sig=" in url) if client.backend == "azure" else ("X-Amz-Signature=" in url)


@pytest.mark.parametrize("impl", IMPLS)
def test_list_100(benchmark: Any, ops: Ops, client: StorageClient, impl: str) -> None:
    """List a prefix holding exactly 100 blobs."""
    label(benchmark, "list_100", client.backend, impl, None)
    for i in range(100):
        client.upload_file(f"list/{i:03d}.txt", b"x")
    client.upload_file("other/outside.txt", b"y")
    assert len(benchmark(ops.list_prefix, "list/")) == 100


@pytest.mark.parametrize("impl", IMPLS)
def test_head(benchmark: Any, ops: Ops, client: StorageClient, impl: str) -> None:
    """Read one blob's properties."""
    label(benchmark, "head", client.backend, impl, None)
    client.upload_file("bench/head.bin", payload_bytes(1024))
    assert benchmark(ops.head, "bench/head.bin") is not None


@pytest.mark.parametrize("impl", IMPLS)
def test_delete(benchmark: Any, ops: Ops, client: StorageClient, impl: str) -> None:
    """Delete one existing blob (re-uploaded, untimed, before each round)."""
    label(benchmark, "delete", client.backend, impl, None)

    def setup() -> tuple[tuple[str], dict[str, Any]]:
        client.upload_file("bench/delete.bin", b"d")
        return ("bench/delete.bin",), {}

    benchmark.pedantic(ops.delete, setup=setup, rounds=30, iterations=1)
    assert not client.blob_exists("bench/delete.bin")
