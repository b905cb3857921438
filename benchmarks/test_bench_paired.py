"""Paired, interleaved Azure-vs-S3 samples, the A/A noise floor, and peak RSS per MB.

- `bench/paired.json`: each operation of the write-up's benchmark table (upload 1 MiB,
  download 1 MiB, generate URL, list 100) timed on every selected backend in one loop,
  alternating ABBA per round.
- `bench/aa.json`: the same operation on the same backend twice, interleaved: the spread
  between the two is the noise floor below which no difference is called.
- `bench/rss.json`: peak resident memory added while streaming one large object up from
  a file and down to a file (100 MiB; 4 MiB under `--benchmark-disable`).
All through crownsafe's clients. Under `--benchmark-disable` each loop does 3 rounds.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from bench_support import MIB, measuring, payload_bytes

from crownsafe.storage.base import StorageClient
from harness import bench
from harness.plugin import selected_backends
from harness.runfolder import merge_points
from harness.runfolder.bench import AAFile, PairedFile, RssFile

ROUNDS, SMOKE_ROUNDS = 40, 3
SEED_OPS = [("upload", MIB), ("download", MIB), ("sas", None), ("list_100", None)]


def seed_op(client: StorageClient, operation: str, size: int | None) -> Callable[[], object]:
    """A zero-argument call of one operation of the write-up's benchmark table, its data
    prepared (untimed) here."""
    if operation == "upload":
        data = payload_bytes(size or 0)
        return lambda: client.upload_file("paired/upload.bin", data)
    if operation == "download":
        client.upload_file("paired/download.bin", payload_bytes(size or 0))
        return lambda: client.download_blob("paired/download.bin")
    if operation == "sas":
        return lambda: client.generate_sas_url("paired/sas.bin", expiry_hours=1)
    for i in range(100):
        client.upload_file(f"paired/list/{i:03d}", b"x")
    return lambda: client.list_blobs(prefix="paired/list/")


def _rounds(request: pytest.FixtureRequest) -> int:
    return ROUNDS if measuring(request.config) else SMOKE_ROUNDS


@pytest.mark.parametrize(("operation", "op_size"), SEED_OPS, ids=[o for o, _ in SEED_OPS])
def test_paired_interleaved(
    request: pytest.FixtureRequest,
    make_storage_client: Callable[..., StorageClient],
    operation: str,
    op_size: int | None,
    run_dir: Path,
) -> None:
    """Every selected backend, alternating in one loop, same operation and data."""
    backends = selected_backends(request.config)
    calls = {b: seed_op(make_storage_client(b), operation, op_size) for b in backends}
    samples = bench.interleaved(calls, _rounds(request))
    entry = {"operation": operation, "size_bytes": op_size, "impl": "crownsafe", "samples": samples}
    merge_points(run_dir, PairedFile, [entry])
    assert {b: len(s) for b, s in samples.items()} == dict.fromkeys(backends, _rounds(request))
    assert all(t > 0 for s in samples.values() for t in s)


@pytest.mark.parametrize(("operation", "op_size"), SEED_OPS, ids=[o for o, _ in SEED_OPS])
def test_aa_noise_floor(
    request: pytest.FixtureRequest,
    make_storage_client: Callable[..., StorageClient],
    backend_name: str,
    operation: str,
    op_size: int | None,
    run_dir: Path,
) -> None:
    """The same operation on the same backend, measured twice, interleaved."""
    call = seed_op(make_storage_client(backend_name), operation, op_size)
    samples = bench.interleaved({"first": call, "second": call}, _rounds(request))
    entry = {"backend": backend_name, "operation": operation, "size_bytes": op_size,
             "first_s": samples["first"], "second_s": samples["second"]}  # fmt: skip
    merge_points(run_dir, AAFile, [entry])
    assert len(samples["first"]) == len(samples["second"]) == _rounds(request)


def test_peak_rss_per_mb_for_a_large_object(
    request: pytest.FixtureRequest,
    make_storage_client: Callable[..., StorageClient],
    backend_name: str,
    payload_file: Callable[[int], Path],
    tmp_path: Path,
    run_dir: Path,
) -> None:
    """Streaming a large object up and down; the bytes round-trip, RSS added is recorded."""
    size = 100 * MIB if measuring(request.config) else 4 * MIB
    client = make_storage_client(backend_name)
    source, target = payload_file(size), tmp_path / "down.bin"
    with bench.PeakRss() as up:
        client.upload_file("rss/large.bin", source)
    with bench.PeakRss() as down:
        written = client.download_to("rss/large.bin", target)
    points = [
        {"backend": backend_name, "operation": op, "size_bytes": size,
         "peak_rss_delta_bytes": peak.added_bytes}
        for op, peak in (("upload", up), ("download", down))
    ]  # fmt: skip
    merge_points(run_dir, RssFile, points)
    print(f"[{backend_name}] {size // MIB} MiB: RSS +{up.added_bytes / MIB:.1f} MiB up, "
          f"+{down.added_bytes / MIB:.1f} MiB down")  # fmt: skip
    assert written == size == target.stat().st_size
    assert target.read_bytes()[-4096:] == source.read_bytes()[-4096:]
