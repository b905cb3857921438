"""Redis (REDIS_URL) and the API's /health (--api-url) are checked when configured."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from harness.services.azurite import AzuriteService
from harness.services.redis import RedisService

from .helpers import command_env, run_predeploy


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def api_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_redis_and_api_health_pass_when_up_and_fail_when_not(
    azurite: AzuriteService, api_url: str, tmp_path: Path
) -> None:
    """A live Redis and /health pass; a Redis port nobody answers and a 404 /health fail."""
    env = command_env(
        {
            "AZURE_BLOB_ENABLED": "true",
            "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
        }
    )
    skips = ("--skip", "database.*", "--skip", "storage.*", "--skip", "sas.*")
    skips += ("--skip", "predeploy.*")
    with RedisService() as redis:
        env["REDIS_URL"] = redis.url
        up = run_predeploy(env, tmp_path, "--api-url", api_url, *skips)
        dead_redis = redis.url
    assert up.returncode == 0, up.stdout
    assert up.status("redis.reachable") == "passed" and up.status("api.health") == "passed"
    env["REDIS_URL"] = dead_redis
    down = run_predeploy(env, tmp_path, "--api-url", f"{api_url}/nothing-here", *skips)
    assert down.returncode == 1
    assert down.failed_ids() == ["redis.reachable", "api.health"]
    assert "HTTP 404" in down.check("api.health")["message"]
