"""Consistency: the sweep finds blobs without a row (dry run by default) and removes them."""

from __future__ import annotations

import os
import subprocess
import sys

from harness.fixtures.api import ApiStack, ApiStackFactory

from .helpers import create_scan, image, upload, wait_for_job


def _sweep(stack: ApiStack, *args: str) -> str:
    env = {**os.environ, **stack.env}
    result = subprocess.run(
        [sys.executable, "-m", "crownsafe.sweep", "--grace-seconds", "0", *args],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_sweep_removes_only_orphans(backend_name: str, make_api_stack: ApiStackFactory) -> None:
    stack = make_api_stack(backend_name)
    client = stack.client(user_id=1101)
    scan = create_scan(client)
    share = client.post(f"/scans/{scan['id']}/shares", json={"format": "json"}).json()
    job_id = upload(client, image("small.png")).json()["job_id"]
    wait_for_job(client, job_id)
    kept = {b.name for b in stack.storage.iter_blobs()}
    assert len(kept) == 3, kept
    orphans = {"uploads/1101/crash-between-writes.jpg", "reports/1101/lost.pdf"}
    for name in orphans:
        stack.storage.upload_file(name, b"\xff\xd8\xff orphan")

    dry = _sweep(stack)
    for name in orphans:
        assert f"orphan {name} " in dry
    assert "dry run" in dry and "2 orphans" in dry
    assert {b.name for b in stack.storage.iter_blobs()} == kept | orphans

    applied = _sweep(stack, "--apply")
    assert "deleted 2" in applied
    assert {b.name for b in stack.storage.iter_blobs()} == kept
    assert client.get(f"/shares/{share['token']}").status_code == 200
    assert _sweep(stack).count("orphan ") == 0
