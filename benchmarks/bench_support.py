"""Operation adapters and payloads the benchmarks share (fixtures live in conftest.py).

`crownsafe_ops(client)` and `raw_azure_ops` / `raw_s3_ops` give one operation table per
implementation so every benchmark times the same operation both ways. The raw clients
are set up like crownsafe's (SDK retries off, SigV4, path-style addressing) and are the
only place outside crownsafe.storage that imports the SDKs: measuring them is the point.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from crownsafe.storage.base import StorageClient
from harness.services.provision import ProvisionedServices
from harness.testdata import payload

KIB, MIB = 1024, 1024 * 1024
ALL_SIZES = (KIB, MIB, 10 * MIB, 100 * MIB)
QUICK_SIZES = (KIB, MIB, 10 * MIB)
SMOKE_SIZES = (KIB, MIB)
FILE_THRESHOLD = 16 * MIB  # at and above this size, upload from a file (streamed)
LEVELS = ("quick", "full")


def size_id(size: int) -> str:
    return f"{size // MIB}MiB" if size >= MIB else f"{size // KIB}KiB"


def measuring(config: pytest.Config) -> bool:
    """True when benchmarks really measure (not `--benchmark-disable`)."""
    return not bool(config.getoption("benchmark_disable", default=False))


def level(config: pytest.Config) -> str:
    """ "smoke" under --benchmark-disable, else --bench-level: "quick" (the default, what
    `crownsafe-harness run` measures) or "full" (`crownsafe-harness bench --full`)."""
    if not measuring(config):
        return "smoke"
    return str(config.getoption("bench_level", default="quick"))


def sizes_for(config: pytest.Config) -> tuple[int, ...]:
    """Object sizes of the per-operation benchmarks: 100 MiB only at the full level."""
    return {"smoke": SMOKE_SIZES, "quick": QUICK_SIZES}.get(level(config), ALL_SIZES)


_PAYLOADS: dict[int, bytes] = {}


def payload_bytes(size: int) -> bytes:
    """harness.testdata.payload seeded by the size, made once per size."""
    if size not in _PAYLOADS:
        _PAYLOADS[size] = payload(size, seed=size)
    return _PAYLOADS[size]


@dataclass
class Ops:
    """One implementation's operations on one container/bucket."""

    upload: Callable[[str, bytes | Path], object]
    download: Callable[[str], bytes]
    download_to: Callable[[str, Path], int]
    sas: Callable[[str], str]
    list_prefix: Callable[[str], list[Any]]
    head: Callable[[str], object]
    delete: Callable[[str], object]
    close: Callable[[], None]


def crownsafe_ops(client: StorageClient) -> Ops:
    def download_to(name: str, path: Path) -> int:
        return client.download_to(name, path)

    return Ops(
        upload=lambda name, data: client.upload_file(name, data),
        download=client.download_blob,
        download_to=download_to,
        sas=lambda name: client.generate_sas_url(name, expiry_hours=1, permission="r"),
        list_prefix=lambda prefix: list(client.list_blobs(prefix=prefix)),
        head=client.head_object,
        delete=client.delete_blob,
        close=lambda: None,
    )


def raw_azure_ops(services: ProvisionedServices, container: str) -> Ops:
    from azure.storage.blob import BlobSasPermissions, BlobServiceClient, generate_blob_sas

    azure = services.azure
    service = BlobServiceClient.from_connection_string(azure.connection_string, retry_total=0)
    blobs = service.get_container_client(container)

    def upload(name: str, data: bytes | Path) -> object:
        if isinstance(data, Path):
            with data.open("rb") as stream:
                return blobs.upload_blob(name, stream, overwrite=True, length=data.stat().st_size)
        return blobs.upload_blob(name, data, overwrite=True)

    def download_to(name: str, path: Path) -> int:
        with path.open("wb") as out:
            return int(blobs.download_blob(name).readinto(out))

    def sas(name: str) -> str:
        token = generate_blob_sas(
            azure.account_name, container, name, account_key=azure.account_key,
            permission=BlobSasPermissions(read=True),
            expiry=datetime.now(UTC) + timedelta(hours=1),
        )  # fmt: skip
        return f"{blobs.get_blob_client(name).url}?{token}"

    return Ops(
        upload=upload,
        download=lambda name: bytes(blobs.download_blob(name).readall()),
        download_to=download_to,
        sas=sas,
        list_prefix=lambda prefix: list(blobs.list_blobs(name_starts_with=prefix)),
        head=lambda name: blobs.get_blob_client(name).get_blob_properties(),
        delete=lambda name: blobs.delete_blob(name),
        close=service.close,
    )


def raw_s3_ops(services: ProvisionedServices, bucket: str) -> Ops:
    import boto3
    from botocore.config import Config

    s3 = services.s3
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

    def upload(name: str, data: bytes | Path) -> object:
        if isinstance(data, Path):
            with data.open("rb") as stream:
                return client.put_object(Bucket=bucket, Key=name, Body=stream)
        return client.put_object(Bucket=bucket, Key=name, Body=data)

    def download(name: str) -> bytes:
        body = client.get_object(Bucket=bucket, Key=name)["Body"]
        try:
            return bytes(body.read())
        finally:
            body.close()

    def download_to(name: str, path: Path) -> int:
        body = client.get_object(Bucket=bucket, Key=name)["Body"]
        written = 0
        try:
            with path.open("wb") as out:
                for chunk in body.iter_chunks(1 * MIB):
                    written += out.write(chunk)
        finally:
            body.close()
        return written

    def list_prefix(prefix: str) -> list[Any]:
        return list(client.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", []))

    return Ops(
        upload=upload,
        download=download,
        download_to=download_to,
        sas=lambda name: client.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": name}, ExpiresIn=3600
        ),
        list_prefix=list_prefix,
        head=lambda name: client.head_object(Bucket=bucket, Key=name),
        delete=lambda name: client.delete_object(Bucket=bucket, Key=name),
        close=client.close,
    )


def label(benchmark: Any, operation: str, backend: str, impl: str, size: int | None) -> None:
    """Group and identify a benchmark the way harness/runfolder/benchmarks.py reads it."""
    benchmark.group = f"{operation}{'-' + size_id(size) if size else ''}[{backend}]"
    benchmark.extra_info.update(
        {"operation": operation, "backend": backend, "impl": impl, "size_bytes": size,
         "emulator": True}
    )  # fmt: skip
