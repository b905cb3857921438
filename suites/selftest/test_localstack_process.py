"""The LocalStack provider as a real process: loopback only, its files in its work folder,
its start-up time and memory in services.json.

Uses the session's LocalStack (the one the SAS promises run on, same xdist group),
so it costs no extra start where loadgroup works (see docs/emulators.md on xdist).
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import psutil
import pytest

from crownsafe.storage.s3 import S3StorageClient
from harness.plugin import provision_mode
from harness.services.localstack import LocalStackService
from harness.targets import TARGETS
from harness.targets.fixtures import TargetPool
from harness.testdata import payload

pytestmark = pytest.mark.xdist_group("target-s3-localstack")


@pytest.fixture
def localstack(request: pytest.FixtureRequest, target_pool: TargetPool) -> LocalStackService:
    if provision_mode(request.config) != "local":
        pytest.skip(
            "checks the LocalStack process the harness starts (its 127.0.0.1 binding, its "
            "files under the run's temporary folder); with --provision external or docker "
            "there is no such process"
        )
    service = target_pool.get(TARGETS["s3:localstack"]).s3
    assert isinstance(service, LocalStackService)
    return service


def _open_paths(pid: int) -> list[str]:
    """Where a process's descriptors point, deleted files included (Linux /proc)."""
    paths = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            paths.append(os.readlink(fd))
        except OSError:
            continue
    return paths


def test_listens_on_loopback_only(localstack: LocalStackService) -> None:
    """GATEWAY_SERVER=hypercorn honours 127.0.0.1; no DNS server on port 53."""
    assert localstack.pid is not None
    process = psutil.Process(localstack.pid)
    listening = [
        c.laddr for c in process.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN
    ]
    assert listening, "LocalStack listens on nothing"
    assert {addr.ip for addr in listening} == {"127.0.0.1"}, listening
    assert {addr.port for addr in listening} == {localstack.port}
    assert process.children(recursive=True) == []


def test_large_objects_stay_in_its_work_folder(localstack: LocalStackService) -> None:
    """Objects over 512 KiB go to LocalStack's file store: ours, not /tmp's shared one."""
    bucket = f"cs-files-{uuid.uuid4().hex[:12]}"
    client = S3StorageClient(
        bucket,
        endpoint_url=localstack.endpoint_url,
        region=localstack.region,
        access_key_id=localstack.access_key_id,
        secret_access_key=localstack.secret_access_key,
    )
    try:
        client.create_container()
        client.upload_file("big.bin", payload(768 * 1024, seed=7))
        assert localstack.storage_dir is not None and localstack.pid is not None
        assert (localstack.storage_dir / bucket).is_dir()
        assert not (Path("/tmp/localstack-s3-storage") / bucket).exists()
        # The store keeps each object in an unlinked temporary file of that folder (psutil
        # hides deleted files): the process's descriptors show where it lives.
        held = [t for t in _open_paths(localstack.pid) if t.startswith(str(localstack.storage_dir))]
        assert any(f"/{bucket}/" in t for t in held), "the object is not in the work folder"
    finally:
        client.delete_container()
        client.close()


def test_start_time_and_memory_are_in_services_json(
    localstack: LocalStackService, run_dir: Path
) -> None:
    record = json.loads((run_dir / "services.json").read_text())
    entries = [e for e in record["services"] if e["target"] == "s3:localstack"]
    assert len(entries) >= 1, record
    entry = next(e for e in entries if e["endpoint"] == localstack.endpoint_url)
    assert entry["ready_s"] > 0 and entry["rss_mib"] > 100
    assert localstack.log_path is not None and localstack.log_path.is_relative_to(run_dir)
    assert "Ready." in localstack.log_path.read_text()
