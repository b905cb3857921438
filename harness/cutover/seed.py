"""Seed a deployment the way the S3-era app left it: objects in S3, rows that name them.

`seed_legacy` writes `count` snapshot objects to S3 (deterministic bytes from
`harness.testdata`, so every checksum is known without keeping the bytes), then, on a
database at the S3-era revision, one `content_snapshot` row per object (`s3_bucket`,
`s3_key`, size, sha256). After the column migration `share_legacy` turns every row into
a live share link (token, owner, expiry), as the previous app version would have, so the
load can read old objects through `GET /shares/{token}`.

Every key is a valid blob name on both services: crownsafe's S3 client refuses the keys
Azure would refuse, so the S3-era app could only have stored and read such names. (Keys
that older tools wrote outside that rule are the object migration's business: its suite
seeds them with raw boto3 and proves their mapping.)
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text

from crownsafe.storage.base import StorageClient
from harness.testdata import payload

__all__ = ["LegacyObject", "legacy_objects", "seed_legacy", "share_legacy"]

CONTENT_TYPES = ("application/json", "application/pdf")


@dataclass(frozen=True)
class LegacyObject:
    key: str
    size: int
    content_type: str
    sha256: str
    owner: int

    @property
    def data(self) -> bytes:
        return payload(self.size, self.key)


def legacy_objects(count: int) -> list[LegacyObject]:
    """`count` objects of 1-6 KiB under `legacy/`, sizes and names derived from the index."""
    objects = []
    for i in range(count):
        key = f"legacy/{i % 50:02d}/snapshot-{i:06d}.json"
        size = 1024 + (i * 7919) % (5 * 1024)
        data = payload(size, key)
        objects.append(
            LegacyObject(
                key,
                size,
                CONTENT_TYPES[i % 10 == 0],
                hashlib.sha256(data).hexdigest(),
                owner=1 + i % 50,
            )
        )
    return objects


def seed_legacy(engine: Engine, s3: StorageClient, objects: Iterable[LegacyObject]) -> int:
    """Put every object into S3 (8 at a time) and write its S3-era row; the database must be
    at the S3-era revision (`s3_bucket` / `s3_key` columns). Returns the number seeded."""
    items = list(objects)

    def put(obj: LegacyObject) -> None:
        s3.upload_file(obj.key, obj.data, content_type=obj.content_type)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(put, items))
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO content_snapshot (source_url, s3_bucket, s3_key, content_type, "
                "size_bytes, sha256) VALUES (:url, :bucket, :key, :ct, :size, :sha)"
            ),
            [
                {
                    "url": f"https://legacy.example/{obj.key}",
                    "bucket": s3.container_name,
                    "key": obj.key,
                    "ct": obj.content_type,
                    "size": obj.size,
                    "sha": obj.sha256,
                }
                for obj in items
            ],
        )
    return len(items)


def share_legacy(
    engine: Engine, objects: Iterable[LegacyObject], *, ttl: timedelta = timedelta(days=7)
) -> dict[str, LegacyObject]:
    """After the column migration: a share link per seeded row; returns token -> object."""
    expires = datetime.now(UTC) + ttl
    tokens = {secrets.token_urlsafe(24): obj for obj in objects}
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE content_snapshot SET kind = 'share', share_token = :token, "
                "user_id = :owner, expires_at = :expires WHERE blob_name = :key"
            ),
            [
                {"token": token, "owner": obj.owner, "expires": expires, "key": obj.key}
                for token, obj in tokens.items()
            ],
        )
    return tokens
