"""Peak RSS of one streamed upload, measured in a fresh process.

    python -m harness.bench.memprobe --backend azure|s3 --container NAME --blob NAME --file PATH

Run as a child process by `benchmarks/test_bench_overhead.py`: in a long pytest session
memory freed by earlier tests stays in the allocator's arenas and is reused, which hides
what an upload really needs. Here the process builds crownsafe's bare client from the
HARNESS_* variables of `--provision external` (the parent passes its services' values in
the environment, never on the command line), makes one tiny upload so imports and the
connection pool exist, then resets the kernel's high-water mark and streams the file up.
Prints one JSON object: baseline and peak RSS, their difference, and the method used.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from crownsafe.config import BACKENDS
from crownsafe.storage.base import StorageClient
from harness.bench.rss import PeakRss
from harness.settings import read_settings

__all__ = ["build_client", "main"]


def build_client(backend: str, container: str) -> StorageClient:
    """crownsafe's bare client for the service named by the HARNESS_* variables."""
    settings = read_settings()
    if backend == "azure":
        from crownsafe.storage.azure import AzureBlobStorageClient

        return AzureBlobStorageClient(
            container,
            connection_string=settings.azure_connection_string,
            connection_verify=settings.azure_connection_verify or None,
        )
    from crownsafe.storage.s3 import S3StorageClient

    return S3StorageClient(
        container,
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region or None,
        access_key_id=settings.s3_access_key_id,
        secret_access_key=settings.s3_secret_access_key,
    )


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m harness.bench.memprobe", description=__doc__)
    p.add_argument("--backend", choices=BACKENDS, required=True)
    p.add_argument("--container", required=True)
    p.add_argument("--blob", required=True)
    p.add_argument("--file", type=Path, required=True)
    args = p.parse_args(argv)
    size = args.file.stat().st_size
    client = build_client(args.backend, args.container)
    try:
        client.upload_file(f"{args.blob}.warmup", b"w")
        gc.collect()
        with PeakRss() as peak:
            client.upload_file(args.blob, args.file)
        stored = client.head_object(args.blob).size
    finally:
        client.close()
    result = {
        "backend": args.backend,
        "size_bytes": size,
        "stored_bytes": stored,
        "baseline_rss_bytes": peak.baseline,
        "peak_rss_bytes": peak.peak,
        "peak_rss_increase_bytes": peak.added_bytes,
        "method": peak.method,
    }
    print(json.dumps(result))
    return 0 if stored == size else 1


if __name__ == "__main__":
    sys.exit(main())
