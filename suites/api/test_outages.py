"""Outages: a stopped storage emulator or an unreachable Redis, on a dedicated stack.

Health answers 503 naming the failing part (never an exception text or a secret), and an
upload answers 503 with Retry-After and records nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, pool, select

from crownsafe.db.models import ImageJob
from crownsafe.redaction import contains_secret
from harness.fixtures.api import ApiStackFactory
from harness.services.provision import ProvisionedServices, start_services

from .helpers import assert_error, image, upload


def _job_rows(database_url: str) -> int:
    engine = create_engine(database_url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(ImageJob)).scalar_one())
    finally:
        engine.dispose()


@pytest.fixture
def own_emulator(backend_name: str, run_dir: Path) -> Iterator[ProvisionedServices]:
    """A storage emulator for this test alone (it is stopped mid-test)."""
    with start_services([backend_name], "local", log_dir=run_dir / "logs" / "outage") as own:
        yield own


def test_storage_outage(
    backend_name: str, own_emulator: ProvisionedServices, make_api_stack: ApiStackFactory
) -> None:
    stack = make_api_stack(backend_name, worker=False, services=own_emulator)
    client = stack.client(user_id=901)
    assert client.get("/health/azure-storage").status_code == 200
    own_emulator.services[backend_name].stop()

    health = client.get("/health/azure-storage")
    assert health.status_code == 503
    body = health.json()
    assert body["status"] == "unhealthy" and body["failing"] == ["storage"]
    assert body["checks"]["storage"] != "ok"
    assert not contains_secret(health.text)
    for secret in (
        stack.env.get("AZURE_STORAGE_ACCOUNT_KEY"),
        stack.env.get("AWS_SECRET_ACCESS_KEY"),
    ):
        assert not secret or secret not in health.text
    assert "127.0.0.1" not in health.text and "Traceback" not in health.text
    assert client.get("/health").status_code == 200, "database and Redis are still fine"

    response = upload(client, image("medium.jpg"))
    error = assert_error(response, 503, "storage_unavailable")
    assert int(response.headers["retry-after"]) >= 1
    assert "nothing was stored" in error["message"]
    assert _job_rows(stack.database_url) == 0


def test_redis_outage(backend_name: str, make_api_stack: ApiStackFactory) -> None:
    """Redis unreachable: /health names it; an upload is undone (no row, no blob) and is 503."""
    stack = make_api_stack(backend_name, worker=False, REDIS_URL="redis://127.0.0.1:9/0")
    client = stack.client(user_id=902)
    health = client.get("/health")
    assert health.status_code == 503
    assert health.json()["failing"] == ["redis"]
    response = upload(client, image("small.png"))
    assert_error(response, 503)
    assert "retry-after" in response.headers
    assert _job_rows(stack.database_url) == 0
    assert stack.storage.list_blobs(prefix="uploads/") == []
