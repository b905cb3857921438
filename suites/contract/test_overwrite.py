"""Overwrite semantics: replace by default, typed conflict with overwrite=False."""

from __future__ import annotations

import io

import pytest

from crownsafe.errors import BlobConflictError, StorageError
from crownsafe.storage.base import StorageClient

from .conftest import payload

pytestmark = pytest.mark.contract

# The documented difference (docs/emulators.md): one typed error, each service's status/code.
CONFLICT_STATUS = {"azure": (409, "BlobAlreadyExists"), "s3": (412, "PreconditionFailed")}


def test_overwrite_replaces_content(storage_client: StorageClient) -> None:
    """Uploading to an existing name replaces its content and size."""
    storage_client.upload_file("ow/doc.bin", payload(4096, seed=1))
    storage_client.upload_file("ow/doc.bin", b"short")
    assert storage_client.download_blob("ow/doc.bin") == b"short"
    assert storage_client.head_object("ow/doc.bin").size == 5


def test_overwrite_with_empty_content(storage_client: StorageClient) -> None:
    """Overwriting with 0 bytes leaves an existing, empty blob."""
    storage_client.upload_file("ow/emptied.bin", b"not empty")
    storage_client.upload_file("ow/emptied.bin", b"")
    assert storage_client.blob_exists("ow/emptied.bin")
    assert storage_client.download_blob("ow/emptied.bin") == b""


def test_overwrite_false_creates_new_blob(storage_client: StorageClient) -> None:
    """overwrite=False on a free name simply creates the blob."""
    storage_client.upload_file("ow/fresh.bin", b"fresh", overwrite=False)
    assert storage_client.download_blob("ow/fresh.bin") == b"fresh"


def test_overwrite_false_conflict_is_typed(storage_client: StorageClient, backend: str) -> None:
    """overwrite=False on an existing blob raises BlobConflictError with status, code, id."""
    storage_client.upload_file("ow/taken.bin", b"original")
    with pytest.raises(BlobConflictError) as caught:
        storage_client.upload_file("ow/taken.bin", b"intruder", overwrite=False)
    error = caught.value
    assert (error.status, error.error_code) == CONFLICT_STATUS[backend], (
        f"[{backend}] conflict status/code: got {(error.status, error.error_code)}"
    )
    assert error.request_id, f"[{backend}] conflict error lacks the service request id"
    assert error.backend == backend
    assert error.blob_name == "ow/taken.bin"
    assert error.operation


def test_overwrite_false_conflict_keeps_original(storage_client: StorageClient) -> None:
    """A refused overwrite leaves the original content, type and metadata intact."""
    storage_client.upload_file(
        "ow/keep.bin", b"original", content_type="text/plain", metadata={"v": "1"}
    )
    with pytest.raises(BlobConflictError):
        storage_client.upload_file(
            "ow/keep.bin",
            b"intruder",
            content_type="image/png",
            metadata={"v": "2"},
            overwrite=False,
        )
    assert storage_client.download_blob("ow/keep.bin") == b"original"
    info = storage_client.head_object("ow/keep.bin")
    assert info.content_type == "text/plain"
    assert dict(info.metadata) == {"v": "1"}


def test_overwrite_false_conflict_from_stream_keeps_original(
    storage_client: StorageClient,
) -> None:
    """A refused overwrite from a stream is a conflict too, never a partial replacement."""
    original = payload(2048, seed=2)
    storage_client.upload_file("ow/stream.bin", original)
    with pytest.raises(BlobConflictError):
        storage_client.upload_file("ow/stream.bin", io.BytesIO(b"y" * 4096), overwrite=False)
    assert storage_client.download_blob("ow/stream.bin") == original


def test_conflict_error_is_a_storage_error(storage_client: StorageClient) -> None:
    """BlobConflictError is a StorageError, so one except clause catches every backend."""
    storage_client.upload_file("ow/base.bin", b"a")
    with pytest.raises(StorageError) as caught:
        storage_client.upload_file("ow/base.bin", b"b", overwrite=False)
    assert type(caught.value) is BlobConflictError
