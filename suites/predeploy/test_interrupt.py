"""SIGTERM in the middle of the round trip: the probe blob is deleted before the exit."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

from tenacity import Retrying, retry_if_result, stop_after_delay, wait_fixed

from crownsafe.storage.azure import AzureBlobStorageClient
from harness.predeploy.interrupt import PAUSE_FILE_ENV
from harness.predeploy.probes import PROBE_PREFIX
from harness.services.azurite import AzuriteService

from .helpers import argv, command_env


def _wait_for(path: Path, process: subprocess.Popen[str]) -> str:
    """The file's text once it exists (the command writes it while it pauses)."""
    waiting = Retrying(
        stop=stop_after_delay(90), wait=wait_fixed(0.05), retry=retry_if_result(lambda ok: not ok)
    )
    waiting(lambda: path.exists() or process.poll() is not None)
    assert path.exists(), f"the command ended (exit {process.poll()}) without pausing"
    return path.read_text()


def test_sigterm_during_round_trip_leaves_no_probe_blob(
    azurite: AzuriteService, azure_container: AzureBlobStorageClient, tmp_path: Path
) -> None:
    """Killed politely while its probe is stored, predeploy deletes the probe, exits 143."""
    pause = tmp_path / "release"
    env = command_env(
        {
            "AZURE_BLOB_ENABLED": "true",
            "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
            "AZURE_STORAGE_CONTAINER": azure_container.container_name,
            PAUSE_FILE_ENV: str(pause),
        }
    )
    report = tmp_path / "report.json"
    process = subprocess.Popen(
        argv("--skip", "database.*", "--json", str(report)),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    signalled = False
    try:
        probe = _wait_for(Path(f"{pause}.waiting"), process)
        assert probe.startswith(PROBE_PREFIX) and azure_container.blob_exists(probe)
        process.send_signal(signal.SIGTERM)
        signalled = True
    finally:
        if not signalled and process.poll() is None:
            process.kill()  # it would wait for the release file forever
        stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM, stdout + stderr
    assert azure_container.list_blobs(prefix=PROBE_PREFIX) == []
    document = json.loads(report.read_text())
    assert document["outcome"] == "interrupted" and document["probes_left"] == []
    round_trip = next(c for c in document["checks"] if c["id"] == "storage.round-trip")
    assert round_trip["status"] == "skipped" and "SIGTERM" in round_trip["message"]
