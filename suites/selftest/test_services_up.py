"""`crownsafe-harness services up` as a newcomer uses it: from a script, exports pasted into
the app's environment, stopped with SIGINT or SIGTERM."""

from __future__ import annotations

import dataclasses
import os
import queue
import shlex
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from crownsafe.config import Settings, load_settings
from crownsafe.storage import create_storage_client

HARNESS = Path(sys.executable).with_name("crownsafe-harness")
READY_LINE = "# Ctrl-C (SIGINT) or SIGTERM stops the services"
SETTINGS_VARIABLES = {f.name.upper() for f in dataclasses.fields(Settings)}


def _ignore_sigint() -> None:
    """What `cmd &` in a non-interactive shell does to a background job."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class ServicesUp:
    """The command as a child process whose stdout is read line by line."""

    def __init__(self) -> None:
        env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
        self.process = subprocess.Popen(
            [str(HARNESS), "services", "up", "--services", "azure,s3"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            preexec_fn=_ignore_sigint,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, wanted: str, timeout: float = 60.0) -> None:
        while True:
            try:
                line = self._queue.get(timeout=timeout)
            except queue.Empty:
                pytest.fail(f"no {wanted!r} within {timeout} s; output:\n" + "\n".join(self.lines))
            if line is None:
                pytest.fail(f"exited before {wanted!r}; output:\n" + "\n".join(self.lines))
            self.lines.append(line)
            if line == wanted:
                return

    def rest(self) -> list[str]:
        while (line := self._queue.get(timeout=10)) is not None:
            self.lines.append(line)
        return self.lines

    def exports(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for line in self.lines:
            if line.startswith("export "):
                name, _, value = line.removeprefix("export ").partition("=")
                found[name] = shlex.split(value)[0] if value else ""
        return found

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture
def services_up() -> Iterator[ServicesUp]:
    running = ServicesUp()
    yield running
    running.kill()


def _roundtrip(settings: Settings) -> None:
    client = create_storage_client(settings)
    try:
        name = f"newcomer/{uuid.uuid4().hex}.txt"
        client.upload_file(name, b"pasted from services up", content_type="text/plain")
        assert client.download_blob(name) == b"pasted from services up"
    finally:
        client.close()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_services_up_exports_work_as_pasted_and_a_signal_stops_everything(
    services_up: ServicesUp, signum: signal.Signals
) -> None:
    """Started with SIGINT ignored (a script's `cmd &`): its exports alone build a working
    client for the configured container and bucket, and SIGINT/SIGTERM stop it with exit
    status 0 and no process left behind."""
    services_up.wait_for(READY_LINE)
    exports = services_up.exports()
    assert exports.get("STORAGE_BACKEND") == "azure", exports.keys()
    assert exports.get("HARNESS_PROVISION") == "external"
    assert exports.get("HARNESS_BACKENDS") == "azure,s3"
    assert exports["AZURE_STORAGE_CONTAINER"] == Settings().azure_storage_container
    assert exports["S3_BUCKET"] == Settings().s3_bucket
    settings = load_settings(exports)
    _roundtrip(settings)
    _roundtrip(dataclasses.replace(settings, storage_backend="s3"))

    children = psutil.Process(services_up.process.pid).children(recursive=True)
    assert len(children) >= 2, "azurite and moto run as child processes"
    services_up.process.send_signal(signum)
    try:
        status = services_up.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{signum.name} did not stop `services up` within 30 s")
    output = services_up.rest()
    assert status == 0, "\n".join(output)
    assert "# services stopped" in output
    _, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, f"left running after {signum.name}: {[p.pid for p in alive]}"
