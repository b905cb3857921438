"""The drill's last word: every seeded object on Azure, byte for byte, and every row.

- Objects: each seeded S3 key must exist on Azure under its mapped name
  (`crownsafe.objects.keys.target_blob_name`) with the sha256 of its S3 original
  (recomputed from the bytes Azure returns, never from ETags), and the S3 original must
  still be intact (the cut-over never changes the source).
- Rows: every `content_snapshot` row with a blob and every `image_jobs` row must point at
  the Azure container and at a blob Azure has. A row still on the S3 bucket is counted
  (`rows_still_on_s3`) and listed as pointing nowhere once S3 is retired.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine, text

from crownsafe.errors import BlobNotFoundError
from crownsafe.objects.keys import target_blob_name
from crownsafe.storage.base import StorageClient
from harness.cutover.seed import LegacyObject
from harness.runfolder.cutover import ObjectCheck

__all__ = ["check_everything"]

ROW_QUERIES = (
    (
        "content_snapshot",
        "SELECT id, blob_container, blob_name FROM content_snapshot "
        "WHERE blob_name IS NOT NULL ORDER BY id",
    ),
    ("image_jobs", "SELECT id, blob_container, blob_name FROM image_jobs ORDER BY id"),
)


def _sha256(client: StorageClient, name: str) -> str | None:
    try:
        digest = hashlib.sha256()
        for chunk in client.iter_blob_chunks(name):
            digest.update(chunk)
        return digest.hexdigest()
    except BlobNotFoundError:
        return None


def check_everything(
    engine: Engine,
    azure: StorageClient,
    s3: StorageClient,
    objects: Sequence[LegacyObject],
    *,
    workers: int = 8,
) -> ObjectCheck:
    def check(obj: LegacyObject) -> tuple[str, str]:
        on_azure = _sha256(azure, target_blob_name(obj.key))
        if on_azure is None:
            return obj.key, "missing"
        if on_azure != obj.sha256 or _sha256(s3, obj.key) != obj.sha256:
            return obj.key, "corrupted"
        return obj.key, "verified"

    with ThreadPoolExecutor(workers) as pool:
        outcomes = list(pool.map(check, objects))
    missing = [key for key, outcome in outcomes if outcome == "missing"]
    corrupted = [key for key, outcome in outcomes if outcome == "corrupted"]
    rows, nowhere, on_s3 = _check_rows(engine, azure, s3.container_name)
    return ObjectCheck(
        objects=len(objects),
        verified=len(objects) - len(missing) - len(corrupted),
        missing=missing,
        corrupted=corrupted,
        rows=rows,
        rows_pointing_nowhere=nowhere,
        rows_still_on_s3=on_s3,
    )


def _check_rows(engine: Engine, azure: StorageClient, bucket: str) -> tuple[int, list[str], int]:
    refs: list[tuple[str, str, str]] = []
    with engine.connect() as conn:
        for table, query in ROW_QUERIES:
            for row in conn.execute(text(query)):
                refs.append((f"{table}#{row.id}", row.blob_container or "", row.blob_name))
    on_s3 = sum(container == bucket for _, container, _ in refs)

    def points_nowhere(ref: tuple[str, str, str]) -> str | None:
        label, container, name = ref
        if container != azure.container_name:
            return f"{label} ({container or 'no container'})"
        return None if azure.blob_exists(name) else f"{label} ({name})"

    with ThreadPoolExecutor(8) as pool:
        nowhere = [label for label in pool.map(points_nowhere, refs) if label]
    return len(refs), nowhere, on_s3
