"""1 KiB upload and download: crownsafe's clients beside the raw SDK calls, per backend.

Goal (issue 2): crownsafe >= 0.95x the raw SDK's ops/s on both backends. Each benchmark
is grouped by (op, backend), e.g. `upload-1KiB[azure]`, with `impl` = crownsafe | raw in
`extra_info`, so the ratio crownsafe/raw reads off one group. The raw clients are set up
like crownsafe's (SDK retries off, SigV4, path-style on a custom endpoint) and run against
the same emulator and container in the same run. Emulator numbers, labelled as such.

Runs as a plain test too (`--benchmark-disable`): each call is then made once and checked.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from crownsafe.storage.base import StorageClient

SIZE = 1024
DATA = random.Random(1024).randbytes(SIZE)


@dataclass
class SmallOps:
    """The two operations under test for one implementation."""

    upload: Callable[[str, bytes], object]
    download: Callable[[str], bytes]


def _raw_azure(storage_services: Any, container: str) -> tuple[SmallOps, Callable[[], None]]:
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(
        storage_services.azure.connection_string, retry_total=0
    )
    blobs = service.get_container_client(container)

    def upload(name: str, data: bytes) -> object:
        return blobs.get_blob_client(name).upload_blob(data, overwrite=True)

    def download(name: str) -> bytes:
        return bytes(blobs.get_blob_client(name).download_blob().readall())

    return SmallOps(upload, download), service.close


def _raw_s3(storage_services: Any, bucket: str) -> tuple[SmallOps, Callable[[], None]]:
    import boto3
    from botocore.config import Config

    s3 = storage_services.s3
    client = boto3.client(
        "s3",
        endpoint_url=s3.endpoint_url,
        region_name=s3.region,
        aws_access_key_id=s3.access_key_id,
        aws_secret_access_key=s3.secret_access_key,
        config=Config(
            signature_version="s3v4",
            retries={"total_max_attempts": 1, "mode": "standard"},
            s3={"addressing_style": "path"},
        ),
    )

    def upload(name: str, data: bytes) -> object:
        return client.put_object(Bucket=bucket, Key=name, Body=data)

    def download(name: str) -> bytes:
        body = client.get_object(Bucket=bucket, Key=name)["Body"]
        try:
            return bytes(body.read())
        finally:
            body.close()

    return SmallOps(upload, download), client.close


@pytest.fixture
def crownsafe_ops(storage_client: StorageClient) -> SmallOps:
    """crownsafe's bare client (no resilience wrapper) on the test's fresh container."""
    return SmallOps(storage_client.upload_file, storage_client.download_blob)


@pytest.fixture
def raw_ops(storage_client: StorageClient, storage_services: Any) -> Iterator[SmallOps]:
    """The raw SDK calls on the same container, configured like crownsafe's client."""
    make = _raw_azure if storage_client.backend == "azure" else _raw_s3
    ops, close = make(storage_services, storage_client.container_name)
    try:
        yield ops
    finally:
        close()


def _label(benchmark: Any, op: str, impl: str, backend: str) -> None:
    benchmark.group = f"{op}-1KiB[{backend}]"
    benchmark.extra_info.update(
        {"op": op, "impl": impl, "backend": backend, "size_bytes": SIZE, "emulator": True}
    )


def _bench_upload(benchmark: Any, ops: SmallOps, client: StorageClient, impl: str) -> None:
    _label(benchmark, "upload", impl, client.backend)
    name = f"bench/upload-1k-{impl}.bin"
    benchmark(ops.upload, name, DATA)
    assert client.download_blob(name) == DATA


def _bench_download(benchmark: Any, ops: SmallOps, client: StorageClient, impl: str) -> None:
    _label(benchmark, "download", impl, client.backend)
    client.upload_file("bench/download-1k.bin", DATA)
    assert benchmark(ops.download, "bench/download-1k.bin") == DATA


def test_upload_1kib_crownsafe(
    benchmark: Any, crownsafe_ops: SmallOps, storage_client: StorageClient
) -> None:
    """1 KiB upload (overwriting one name) through crownsafe's client."""
    _bench_upload(benchmark, crownsafe_ops, storage_client, "crownsafe")


def test_upload_1kib_raw(benchmark: Any, raw_ops: SmallOps, storage_client: StorageClient) -> None:
    """1 KiB upload (overwriting one name) through the raw SDK call."""
    _bench_upload(benchmark, raw_ops, storage_client, "raw")


def test_download_1kib_crownsafe(
    benchmark: Any, crownsafe_ops: SmallOps, storage_client: StorageClient
) -> None:
    """1 KiB download of one blob through crownsafe's client."""
    _bench_download(benchmark, crownsafe_ops, storage_client, "crownsafe")


def test_download_1kib_raw(
    benchmark: Any, raw_ops: SmallOps, storage_client: StorageClient
) -> None:
    """1 KiB download of one blob through the raw SDK call."""
    _bench_download(benchmark, raw_ops, storage_client, "raw")
