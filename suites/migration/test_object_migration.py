"""Object migration S3 -> Azure against the real emulators (moto, Azurite) and PostgreSQL.

The end-to-end test seeds 2,000+ objects (0-byte, a 20 MiB multipart/multi-block one,
unicode and URL-special keys, metadata keys Azure refuses) and rows that point at them,
runs `crownsafe-migrate-objects` as a subprocess, SIGKILLs it once the ledger shows
KILL_AFTER verified objects (polled, not slept), re-runs it to completion and runs it a
third time. It then checks every object and every row.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from tenacity import Retrying, retry_if_result, stop_after_delay, wait_fixed

from crownsafe.objects.rows import S3UrlMatcher
from crownsafe.storage.base import BlobInfo, StorageClient
from crownsafe.storage.urls import parse_blob_url
from harness.fixtures.storage import build_storage_client
from harness.services.postgres import PostgresService

from .conftest import REPO_ROOT, MigrationSummary, connect
from .objects import SeedObject, make_objects, put_objects, seed_rows

pytestmark = [pytest.mark.migration, pytest.mark.slow, pytest.mark.timeout(900)]

SMALL_OBJECTS = 2000
BIG_SIZE = 20 * 1024 * 1024
KILL_AFTER = 300


def expected_metadata(metadata: dict[str, str]) -> dict[str, str]:
    """The documented key rule, written out independently of crownsafe.objects.keys."""
    result = {}
    for key, value in metadata.items():
        new = key.replace("-", "_")
        result["_" + new if new[0].isdigit() else new] = value
    return result


def ledger(url: str, bucket: str) -> dict[str, int]:
    with connect(url) as conn:
        rows = conn.execute(
            "SELECT status, count(*) FROM object_migration WHERE source_bucket = %s "
            "GROUP BY status",
            (bucket,),
        ).fetchall()
    return {status: int(n) for status, n in rows}


def listing(client: StorageClient) -> dict[str, BlobInfo]:
    return {blob.name: blob for blob in client.iter_blobs()}


def etags(blobs: dict[str, BlobInfo]) -> dict[str, str | None]:
    return {name: blob.etag for name, blob in blobs.items()}


def run_tool(env: dict[str, str], args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "crownsafe.objects.cli", "--json", *args],
            env=env,
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=err,
        )


# A hang guard, not a speed goal: a run takes 20-60 s alone, several minutes on a loaded
# 2-core machine. On expiry the tool is killed, so it cannot outlive the test (and be blamed,
# as an unclosed subprocess, on whichever test runs next in this worker).
RUN_TIMEOUT_S = 420


def finish(proc: subprocess.Popen[bytes], log: Path) -> dict[str, Any]:
    try:
        out, _ = proc.communicate(timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError(
            f"migrate-objects still running after {RUN_TIMEOUT_S} s\n{log.read_text()[-3000:]}"
        ) from None
    assert proc.returncode == 0, f"exit {proc.returncode}\n{log.read_text()[-3000:]}"
    report: dict[str, Any] = json.loads(out)
    return report


def verify_object(
    info: BlobInfo, source: StorageClient, target: StorageClient, obj: SeedObject
) -> list[str]:
    """Everything that differs between the seeded object and its Azure copy (`info` is the
    copy's properties from the target listing, which carries content type and metadata)."""
    problems = []
    if info.size != obj.size:
        problems.append(f"size {info.size} != {obj.size}")
    wanted_type = obj.content_type or source.head_object(obj.key).content_type
    if info.content_type != wanted_type:
        problems.append(f"content type {info.content_type!r} != {wanted_type!r}")
    if dict(info.metadata) != expected_metadata(obj.metadata):
        problems.append(f"metadata {dict(info.metadata)} != {expected_metadata(obj.metadata)}")
    digest = hashlib.sha256()
    for chunk in target.iter_blob_chunks(obj.key):
        digest.update(chunk)
    if digest.hexdigest() != obj.sha256:
        problems.append("sha256 differs")
    return [f"{obj.key!r}: {p}" for p in problems]


def verify_all(
    services: Any,
    listing: dict[str, BlobInfo],
    bucket: str,
    container: str,
    objects: list[SeedObject],
    workers: int = 6,
) -> list[str]:
    """verify_object for every object, `workers` at a time, each with its own clients."""

    def verify_share(index: int) -> list[str]:
        source = build_storage_client(services, "s3", bucket)
        target = build_storage_client(services, "azure", container)
        try:
            return [
                problem
                for obj in objects[index::workers]
                for problem in verify_object(listing[obj.key], source, target, obj)
            ]
        finally:
            source.close()
            target.close()

    with ThreadPoolExecutor(workers) as pool:
        return [p for found in pool.map(verify_share, range(workers)) for p in found]


def test_migration_survives_sigkill_and_copies_each_object_once(
    storage_services: Any,
    make_storage_client: Any,
    migrated_database_url: str,
    postgres_service: PostgresService,
    tmp_path: Path,
    migration_summary: MigrationSummary,
) -> None:
    """Killed mid-run, re-run, re-run again: all verified, each copied once, rows moved."""
    source = make_storage_client("s3")
    target = make_storage_client("azure")
    bucket, container = source.container_name, target.container_name
    s3 = storage_services.s3
    objects = make_objects(SMALL_OBJECTS, BIG_SIZE)
    began = time.perf_counter()
    put_objects(s3, bucket, objects)
    with connect(migrated_database_url) as conn:
        rows = seed_rows(conn, bucket, s3.endpoint_url, objects)
    seed_s = time.perf_counter() - began
    total = len(objects)

    env = {**os.environ, **storage_services.env(), "DATABASE_URL": migrated_database_url}
    args = ["--source-bucket", bucket, "--target-container", container, "--workers", "4"]
    log = tmp_path / "migrate.log"

    # run 1: killed once KILL_AFTER objects are verified
    began = time.perf_counter()
    first = run_tool(env, args, log)

    def progress() -> int:
        assert first.poll() is None, f"run 1 ended before the kill:\n{log.read_text()[-2000:]}"
        return ledger(migrated_database_url, bucket).get("verified", 0)

    poll = Retrying(
        stop=stop_after_delay(180),
        wait=wait_fixed(0.05),
        retry=retry_if_result(lambda verified: verified < KILL_AFTER),
        reraise=True,
    )
    poll(progress)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(30)
    assert first.stdout is not None
    first.stdout.close()
    run1_s = time.perf_counter() - began
    assert first.returncode == -signal.SIGKILL
    at_kill = ledger(migrated_database_url, bucket)
    assert KILL_AFTER <= at_kill.get("verified", 0) < total, at_kill
    after_kill = etags(listing(target))

    # run 2: resumes
    began = time.perf_counter()
    second = finish(run_tool(env, args, log), log)
    run2_s = time.perf_counter() - began
    assert second["objects"] == total
    assert second["skipped"] == at_kill["verified"]
    assert second["copied"] + second["adopted"] == total - at_kill["verified"]
    assert second["failed"] == 0 and second["mismatches"] == 0, second["failures"]
    assert second["verified_total"] == total
    stored = listing(target)
    after_second = etags(stored)
    assert set(after_second) == {obj.key for obj in objects}
    rewritten = {k: v for k, v in second["url_rows_rewritten"].items() if k != "total"}
    assert rewritten["content_snapshot"] == rows["content_snapshot"]
    assert rewritten["image_jobs"] == rows["image_jobs"]
    assert rewritten["scan_history"] == rows["scan_history"] - 2  # a NULL and a CDN URL
    reuploaded = [n for n, tag in after_kill.items() if after_second[n] != tag]
    assert reuploaded == [], f"copied twice after the kill: {reuploaded[:5]}"
    with connect(migrated_database_url) as conn:
        copies = dict(
            conn.execute(
                "SELECT copies, count(*) FROM object_migration WHERE source_bucket = %s "
                "GROUP BY copies",
                (bucket,),
            ).fetchall()
        )
    assert set(copies) <= {0, 1}, f"an object was uploaded more than once: {copies}"
    assert copies.get(0, 0) == second["adopted"]

    # run 3: nothing left to do
    began = time.perf_counter()
    third = finish(run_tool(env, args, log), log)
    run3_s = time.perf_counter() - began
    assert (third["copied"], third["adopted"], third["skipped"]) == (0, 0, total)
    assert third["url_rows_rewritten"]["total"] == 0
    assert etags(listing(target)) == after_second

    # every object, every row
    problems = verify_all(storage_services, stored, bucket, container, objects)
    assert problems == [], "\n".join(problems[:20])
    matcher = S3UrlMatcher(bucket, [s3.endpoint_url])
    with connect(migrated_database_url) as conn:
        urls = [u for (u,) in conn.execute("SELECT blob_url FROM scan_history").fetchall()]
        pairs = conn.execute(
            "SELECT blob_container, blob_name FROM content_snapshot UNION ALL "
            "SELECT blob_container, blob_name FROM image_jobs"
        ).fetchall()
    assert [u for u in urls if u and matcher.s3_key(u)] == [], "rows still point at S3"
    for url in urls:
        if url and url.startswith(storage_services.azure.blob_endpoint):
            location = parse_blob_url(url, kind="azure")
            assert (location.container, location.blob_name in stored) == (container, True), url
    assert all(c == container and n in stored for c, n in pairs), "a row names a missing blob"

    migration_summary.record(
        "object_migration",
        {
            "objects": total,
            "bytes": sum(o.size for o in objects),
            "objects_verified": total,
            "mismatches": second["mismatches"] + third["mismatches"],
            "verified_at_kill": at_kill.get("verified", 0),
            "in_flight_at_kill": at_kill.get("copying", 0),
            "adopted_after_kill": second["adopted"],
            "resume_worked": True,
            "copied_once": True,
            "third_run_copied": third["copied"],
            "rows_rewritten": second["url_rows_rewritten"],
            "rows_pointing_at_s3": 0,
            "timings_s": {
                "seed": round(seed_s, 2),
                "run1_until_kill": round(run1_s, 2),
                "run2_resume": round(run2_s, 2),
                "run3_noop": round(run3_s, 2),
            },
            "run2_mb_per_s": second["mb_per_s"],
            "run2_objects_per_s": second["objects_per_s"],
        },
    )
