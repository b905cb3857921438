"""A missing container/bucket is named in the error, with a hint to create or configure it."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from crownsafe.errors import BlobNotFoundError
from crownsafe.storage.base import StorageClient
from harness.fixtures.storage import build_storage_client

pytestmark = pytest.mark.contract

VARIABLE = {"azure": "AZURE_STORAGE_CONTAINER", "s3": "S3_BUCKET"}
OPERATIONS: dict[str, Callable[[StorageClient], object]] = {
    "upload_file": lambda client: client.upload_file("missing/a.txt", b"x"),
    "download_blob": lambda client: client.download_blob("missing/a.txt"),
    "list_blobs": lambda client: client.list_blobs(),
}


@pytest.fixture
def client_of_missing_container(
    backend_name: str, storage_services: Any
) -> Iterator[StorageClient]:
    """A client for a container/bucket that was never created."""
    client = build_storage_client(
        storage_services, backend_name, f"cs-never-created-{uuid.uuid4().hex[:12]}"
    )
    yield client
    client.close()


@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_missing_container_error_names_it_and_says_how_to_fix(
    client_of_missing_container: StorageClient, backend_name: str, operation: str
) -> None:
    """Both backends: BlobNotFoundError naming the container, hint: create_container() or
    the variable that names it."""
    client = client_of_missing_container
    with pytest.raises(BlobNotFoundError) as caught:
        OPERATIONS[operation](client)
    error = caught.value
    assert client.container_name in str(error), str(error)
    assert "create_container()" in error.hint, str(error)
    assert VARIABLE[backend_name] in error.hint, str(error)
    assert str(error).count("Fix:") == 1
