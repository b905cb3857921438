"""Seed an S3 bucket the way the S3-era app left it, plus rows that point at its objects.

Objects are written with raw boto3 on purpose: the legacy data was, and it carries what
crownsafe's own client would refuse (metadata keys with '-' or a leading digit).
Payloads are derived from the key, so the test knows every object's bytes and sha256
without keeping them in memory.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import boto3
from botocore.config import Config

from crownsafe.storage.urls import to_s3_uri
from harness.testdata import pattern_chunks, payload

__all__ = ["SeedObject", "make_objects", "object_payload", "put_objects", "seed_rows"]

MiB = 1024 * 1024
CONTENT_TYPES = ("image/jpeg", "image/png", "application/pdf", "text/html; charset=utf-8", None)


@dataclass(frozen=True)
class SeedObject:
    key: str
    size: int
    content_type: str | None
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def sha256(self) -> str:
        digest = hashlib.sha256()
        for chunk in payload_chunks(self):
            digest.update(chunk)
        return digest.hexdigest()


def payload_chunks(obj: SeedObject, chunk: int = 4 * MiB) -> Iterator[bytes]:
    """Deterministic bytes for `obj` (seeded by its key)."""
    return pattern_chunks(obj.size, obj.key, chunk)


def object_payload(obj: SeedObject) -> bytes:
    """All of `obj`'s bytes (harness.testdata.payload seeded by its key)."""
    return payload(obj.size, obj.key)


def make_objects(count: int, big_size: int) -> list[SeedObject]:
    """`count` small objects (0 B ... 6 KiB, unicode and URL-special keys), one 0-byte and
    one `big_size` object (multi-block on Azure, multipart on S3)."""
    rng = random.Random(20251031)
    objects = [
        SeedObject("empty/zero-byte.bin", 0, "application/octet-stream", {"kind": "empty"}),
        SeedObject(
            "reports/big-scan-archive.tar",
            big_size,
            "application/x-tar",
            {"owner": "user-1", "content-lang": "en", "2nd-pass": "yes"},
        ),
    ]
    for i in range(count):
        if i % 5 == 0:
            key = f"scans/{i:05d}/ünïcødé 髪 photo {i}.jpg"
        elif i % 7 == 0:
            key = f"uploads/{i:05d}/a+b #{i} (copy) 100%.png"
        else:
            key = f"uploads/{i:05d}/image.bin"
        metadata = {"user_id": str(i % 97), "source": "visual-upload"}
        if i % 3 == 0:
            metadata["content-lang"] = "fr-FR"
        if i % 11 == 0:
            metadata["2nd-pass"] = "true"
        objects.append(
            SeedObject(
                key, rng.randint(1, 6 * 1024), CONTENT_TYPES[i % len(CONTENT_TYPES)], metadata
            )
        )
    return objects


def s3_sdk_client(s3: Any) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=s3.endpoint_url,
        aws_access_key_id=s3.access_key_id,
        aws_secret_access_key=s3.secret_access_key,
        region_name=s3.region,
        config=Config(
            signature_version="s3v4", s3={"addressing_style": "path"}, max_pool_connections=16
        ),
    )


def put_objects(s3: Any, bucket: str, objects: list[SeedObject]) -> None:
    """Upload every object with boto3 (the big one as multipart), 8 at a time."""
    client = s3_sdk_client(s3)

    def put(obj: SeedObject) -> None:
        extra: dict[str, Any] = {"Metadata": obj.metadata}
        if obj.content_type:
            extra["ContentType"] = obj.content_type
        if obj.size > 16 * MiB:
            upload = client.create_multipart_upload(Bucket=bucket, Key=obj.key, **extra)
            parts = []
            for number, chunk in enumerate(payload_chunks(obj, 8 * MiB), start=1):
                done = client.upload_part(
                    Bucket=bucket,
                    Key=obj.key,
                    PartNumber=number,
                    UploadId=upload["UploadId"],
                    Body=chunk,
                )
                parts.append({"PartNumber": number, "ETag": done["ETag"]})
            client.complete_multipart_upload(
                Bucket=bucket,
                Key=obj.key,
                UploadId=upload["UploadId"],
                MultipartUpload={"Parts": parts},
            )
        else:
            client.put_object(Bucket=bucket, Key=obj.key, Body=object_payload(obj), **extra)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(put, objects))


def seed_rows(
    conn: Any, bucket: str, endpoint_url: str, objects: list[SeedObject]
) -> dict[str, int]:
    """Rows referencing the objects in every stored form; returns rows per table."""
    scans: list[tuple[int | None, str, str | None]] = []
    snapshots: list[tuple[str, str, str, str | None]] = []
    jobs: list[tuple[int, str, str, str, str | None]] = []
    for i, obj in enumerate(objects):
        quoted = quote(obj.key, safe="/")
        forms = (
            to_s3_uri(bucket, obj.key),
            f"{endpoint_url.rstrip('/')}/{bucket}/{quoted}",
            f"https://{bucket}.s3.amazonaws.com/{quoted}",
            f"https://{bucket}.s3.eu-west-1.amazonaws.com/{quoted}"
            "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=900&X-Amz-Signature=abc123",
        )
        scans.append((i % 50, "visual", forms[i % len(forms)]))
        if i % 3 == 0:
            snapshots.append((f"https://example.org/{i}", bucket, obj.key, obj.content_type))
        if i % 4 == 0:
            jobs.append((i, "completed", bucket, obj.key, obj.content_type))
    scans.append((None, "barcode", None))
    scans.append((7, "label", "https://cdn.example.org/not-storage/logo.png"))
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO scan_history (user_id, scan_type, blob_url) VALUES (%s, %s, %s)", scans
        )
        cur.executemany(
            "INSERT INTO content_snapshot (source_url, blob_container, blob_name, content_type) "
            "VALUES (%s, %s, %s, %s)",
            snapshots,
        )
        cur.executemany(
            "INSERT INTO image_jobs (user_id, status, blob_container, blob_name, content_type) "
            "VALUES (%s, %s, %s, %s, %s)",
            jobs,
        )
    conn.commit()
    return {"scan_history": len(scans), "content_snapshot": len(snapshots), "image_jobs": len(jobs)}
