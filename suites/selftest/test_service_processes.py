"""The service providers against real processes: start, answer, stop by PID, fail clearly."""

from __future__ import annotations

import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from harness.services.azurite import AzuriteService
from harness.services.base import ServiceStartError, free_port
from harness.services.provision import start_services
from harness.services.redis import RedisService
from harness.services.s3 import S3Service


def _children() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


@pytest.fixture
def no_orphans() -> Iterator[None]:
    """Fail if the test leaves a child process running."""
    before = _children()
    yield
    left = [p for p in _children() - before if psutil.pid_exists(p)]
    alive = [p for p in left if psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
    assert not alive, f"processes left running: {alive}"


def _fake_binary(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "fake-server"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_parallel_start_external_reuse_and_stop_by_pid(no_orphans: None) -> None:
    """Azurite, moto and Redis start together, answer, serve an external-mode run, stop."""
    with start_services(["azure", "s3", "redis"], "local") as services:
        assert [t.name for t in services.timings] == ["azure", "s3", "redis"]
        assert all(t.ready_s > 0 for t in services.timings)
        assert services.parallel_ready_s >= max(t.ready_s for t in services.timings)
        pids = {name: s.pid for name, s in services.services.items()}  # type: ignore[attr-defined]
        assert all(pid and psutil.pid_exists(pid) for pid in pids.values()), pids
        for service in services.services.values():
            service.probe()  # type: ignore[attr-defined]
        record = services.to_record().model_dump_json()
        assert "AccountKey" not in record and services.azure.account_key not in record

        external_env = services.harness_env()
        for cls in (AzuriteService, S3Service, RedisService):
            external = cls("external", environ=external_env).start()
            assert external.port in {s.port for s in services.services.values()}  # type: ignore[attr-defined]
            external.stop()
        assert all(psutil.pid_exists(pid) for pid in pids.values() if pid), (
            "stopping an external-mode handle must not stop the processes it points at"
        )
    for name, pid in pids.items():
        assert pid is not None
        assert not psutil.pid_exists(pid), f"{name} (pid {pid}) still runs after stop()"


def test_azurite_over_https_with_oauth(no_orphans: None) -> None:
    """https/oauth: a self-signed certificate, an https endpoint, and a probe that verifies it."""
    with AzuriteService(oauth=True) as azurite:
        assert azurite.https and azurite.cert_path is not None and azurite.cert_path.exists()
        assert azurite.blob_endpoint.startswith("https://127.0.0.1:")
        assert "DefaultEndpointsProtocol=https" in azurite.connection_string
        assert azurite.env()["AZURE_CONNECTION_VERIFY"] == str(azurite.cert_path)
        azurite.probe()
        workdir = azurite.cert_path.parent
    assert not workdir.exists(), "the temp dir (cert, log) is removed on stop"


def test_missing_azurite_says_run_make_bootstrap(tmp_path: Path) -> None:
    service = AzuriteService(environ={"HARNESS_AZURITE_BIN": str(tmp_path / "absent")})
    with pytest.raises(ServiceStartError) as caught:
        service.start()
    assert "make bootstrap" in caught.value.fix and "npm ci" in caught.value.fix


def test_missing_redis_says_how_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ServiceStartError) as caught:
        RedisService(environ={}).start()
    assert "apt-get install -y redis-server" in caught.value.fix


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Temp dirs made by the providers land here, so a test can see what was left behind."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_crashing_service_error_carries_its_log_tail(
    tmp_path: Path, private_tmp: Path, no_orphans: None
) -> None:
    """A process that dies at start gives which service, the exit code and its last log lines."""
    binary = _fake_binary(tmp_path, 'echo "fatal: storage location is not writable"; exit 3')
    with pytest.raises(ServiceStartError) as caught:
        AzuriteService(environ={"HARNESS_AZURITE_BIN": str(binary)}, log_dir=tmp_path).start()
    assert list(private_tmp.iterdir()) == [], "a failed start removes its temp dir"
    error = caught.value
    assert error.service == "azurite"
    assert "exited with code 3" in error.why
    assert "storage location is not writable" in error.log_tail
    assert "storage location is not writable" in str(error)


def test_failed_parallel_start_stops_the_others(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, no_orphans: None
) -> None:
    """When one service fails, the ones that did start are stopped before the error."""
    monkeypatch.setenv("HARNESS_AZURITE_BIN", str(_fake_binary(tmp_path, "sleep 0.2; exit 1")))
    with pytest.raises(ServiceStartError) as caught:
        start_services(["redis", "s3", "azure"], "local")
    assert caught.value.service == "azurite"


def test_service_that_never_answers_times_out_clearly(
    tmp_path: Path, private_tmp: Path, no_orphans: None
) -> None:
    binary = _fake_binary(tmp_path, "echo listening soon; exec sleep 30")
    service = AzuriteService(
        environ={"HARNESS_AZURITE_BIN": str(binary)}, log_dir=tmp_path, ready_timeout=0.5
    )
    with pytest.raises(ServiceStartError) as caught:
        service.start()
    assert "not ready within 0.5 s" in caught.value.why
    assert list(private_tmp.iterdir()) == []
    assert "listening soon" in caught.value.log_tail


@pytest.mark.parametrize("cls", [AzuriteService, S3Service, RedisService])
def test_docker_mode_without_an_engine_says_how_to_fix(
    cls: type[AzuriteService | S3Service | RedisService], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No Docker engine answering: a ServiceStartError pointing at --provision local."""
    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{free_port()}")
    with pytest.raises(ServiceStartError) as caught:
        cls("docker").start()
    assert "Docker engine" in caught.value.why
    assert "--provision local" in caught.value.fix


def test_external_endpoint_that_does_not_answer() -> None:
    service = S3Service(
        "external",
        ready_timeout=0.5,
        environ={
            "HARNESS_S3_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
            "HARNESS_S3_ACCESS_KEY_ID": "id",
            "HARNESS_S3_SECRET_ACCESS_KEY": "very-secret-value",
        },
    )
    with pytest.raises(ServiceStartError) as caught:
        service.start()
    assert "does not answer" in caught.value.why
    assert "very-secret-value" not in str(caught.value)
