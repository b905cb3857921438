"""Fixtures of the predeploy suite: an Azurite per module (started by the harness, as a
user would start one by hand), a fresh migrated database per test, a unique container."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from crownsafe.config import Settings
from crownsafe.storage.azure import AzureBlobStorageClient
from harness.services.azurite import AzuriteService


@pytest.fixture(scope="module")
def azurite() -> Iterator[AzuriteService]:
    with AzuriteService() as service:
        yield service


@pytest.fixture
def container_name() -> str:
    return f"pd-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def azure_container(
    azurite: AzuriteService, container_name: str
) -> Iterator[AzureBlobStorageClient]:
    """A private container, and a client on it (for the test's own setup and assertions)."""
    client = AzureBlobStorageClient(
        container_name, connection_string=azurite.connection_string, settings=Settings()
    )
    client.create_container()
    yield client
    client.delete_container()
    client.close()
