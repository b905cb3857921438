"""LocalStack's provider without starting LocalStack: environment, prerequisites, health.

The real process is checked in suites/selftest/test_localstack_process.py (it reuses the
session's LocalStack); docker mode can only be checked up to the engine check here.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from harness.services.base import ServiceStartError, free_port
from harness.services.localstack import (
    LOCALSTACK_DOCKER_IMAGE,
    LocalStackService,
    docker_environment,
    find_localstack_python,
    localstack_environment,
    probe_health,
)
from harness.services.readiness import NotReadyError


def test_environment_checks_signatures_binds_loopback_and_keeps_files_in_the_workdir(
    tmp_path: Path,
) -> None:
    env = localstack_environment(
        4599, tmp_path, {"TMPDIR": "/elsewhere", "DEBUG": "1", "PATH": "/usr/bin"}
    )
    assert env["S3_SKIP_SIGNATURE_VALIDATION"] == "0"
    assert env["GATEWAY_SERVER"] == "hypercorn", "the default gateway binds 0.0.0.0"
    assert env["GATEWAY_LISTEN"] == env["LOCALSTACK_HOST"] == "127.0.0.1:4599"
    assert (env["OVERRIDE_IN_DOCKER"], env["DNS_ADDRESS"], env["SERVICES"]) == ("0", "0", "s3")
    for name in ("FILESYSTEM_ROOT", "XDG_CACHE_HOME", "HOME"):
        assert Path(env[name]).is_relative_to(tmp_path), name
    assert "TMPDIR" not in env and "DEBUG" not in env, "LocalStack reads them as its own"
    assert env["PATH"] == "/usr/bin"


def test_docker_image_is_the_local_version_with_signatures_checked() -> None:
    assert LOCALSTACK_DOCKER_IMAGE == "localstack/localstack:4.13.1"
    assert docker_environment()["S3_SKIP_SIGNATURE_VALIDATION"] == "0"


def test_missing_venv_says_how_to_fix_it(tmp_path: Path) -> None:
    missing = tmp_path / "nothing" / "python"
    service = LocalStackService("local", environ={"HARNESS_LOCALSTACK_PYTHON": str(missing)})
    assert find_localstack_python(service.settings) == missing
    with pytest.raises(ServiceStartError, match="Fix: run `make bootstrap`"):
        service.start()
    assert not service.started and service.pid is None


def test_docker_mode_without_an_engine_fails_fast_with_a_fix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No engine answering (a TCP port nobody listens on): the path users without Docker see."""
    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{free_port()}")
    service = LocalStackService("docker")
    with pytest.raises(ServiceStartError, match=r"Docker engine.*Fix: start Docker"):
        service.check_prerequisites()


def test_external_mode_needs_its_endpoint() -> None:
    with pytest.raises(ServiceStartError, match="HARNESS_LOCALSTACK_ENDPOINT_URL"):
        LocalStackService("external", environ={}).start()


class _Health(BaseHTTPRequestHandler):
    answer: ClassVar[dict[str, object]] = {}

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        body = json.dumps(type(self).answer).encode()
        self.send_response(200 if self.path == "/_localstack/health" else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def health() -> Iterator[tuple[type[_Health], str]]:
    handler = type("Health", (_Health,), {"answer": {}})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield handler, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_ready_only_once_health_says_s3_is_running(health: tuple[type[_Health], str]) -> None:
    handler, url = health
    handler.answer = {"services": {"s3": "available"}}
    with pytest.raises(NotReadyError, match="'available'"):
        probe_health(url)
    handler.answer = {"services": {"s3": "running"}}
    probe_health(url)


def test_nothing_listening_is_not_ready(health: tuple[type[_Health], str]) -> None:
    _, url = health
    with pytest.raises(NotReadyError, match="does not answer"):
        probe_health(url.rsplit(":", 1)[0] + ":9")
