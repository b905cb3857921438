"""exists / head / delete and the typed not-found error every read of a missing blob raises."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest

from crownsafe.errors import BlobNotFoundError
from crownsafe.storage.base import StorageClient

pytestmark = pytest.mark.contract

NOT_FOUND_CODES = {"azure": {"BlobNotFound"}, "s3": {"NoSuchKey", "NotFound", "404"}}


def _assert_not_found(
    backend: str, operation: Callable[[], object], blob_name: str
) -> BlobNotFoundError:
    with pytest.raises(BlobNotFoundError) as caught:
        operation()
    error = caught.value
    assert error.status == 404, f"[{backend}] not-found status: {error.status}"
    assert error.request_id, f"[{backend}] not-found error lacks the service request id"
    assert error.backend == backend
    assert error.blob_name == blob_name
    return error


def test_blob_exists_true_after_upload(storage_client: StorageClient) -> None:
    """blob_exists is True for an uploaded blob, including an empty one."""
    storage_client.upload_file("e/here.bin", b"")
    assert storage_client.blob_exists("e/here.bin") is True


def test_blob_exists_false_for_missing(storage_client: StorageClient) -> None:
    """blob_exists is False (not an error) for a missing blob and for a mere prefix."""
    storage_client.upload_file("e/dir/child.bin", b"c")
    assert storage_client.blob_exists("e/missing.bin") is False
    assert storage_client.blob_exists("e/dir") is False


def test_head_missing_raises_not_found(storage_client: StorageClient, backend: str) -> None:
    """head_object of a missing blob raises BlobNotFoundError: 404 with a request id."""
    _assert_not_found(backend, lambda: storage_client.head_object("e/none.bin"), "e/none.bin")


def test_download_missing_raises_not_found(storage_client: StorageClient, backend: str) -> None:
    """download_blob of a missing blob raises BlobNotFoundError with the service's code."""
    error = _assert_not_found(
        backend, lambda: storage_client.download_blob("e/none.bin"), "e/none.bin"
    )
    assert error.error_code in NOT_FOUND_CODES[backend], error.error_code


def test_download_to_missing_raises_not_found(
    storage_client: StorageClient, backend: str, tmp_path: Path
) -> None:
    """download_to of a missing blob raises BlobNotFoundError and writes nothing."""
    sink = io.BytesIO()
    _assert_not_found(backend, lambda: storage_client.download_to("e/none.bin", sink), "e/none.bin")
    assert sink.getvalue() == b""


def test_iter_chunks_missing_raises_not_found(storage_client: StorageClient, backend: str) -> None:
    """Streaming a missing blob raises BlobNotFoundError (at the latest on first chunk)."""
    _assert_not_found(
        backend, lambda: list(storage_client.iter_blob_chunks("e/none.bin")), "e/none.bin"
    )


def test_delete_existing_returns_true(storage_client: StorageClient) -> None:
    """delete_blob returns True and the blob is gone (exists False, head 404)."""
    storage_client.upload_file("e/doomed.bin", b"bye")
    assert storage_client.delete_blob("e/doomed.bin") is True
    assert storage_client.blob_exists("e/doomed.bin") is False
    with pytest.raises(BlobNotFoundError):
        storage_client.head_object("e/doomed.bin")


def test_delete_missing_raises_not_found(storage_client: StorageClient, backend: str) -> None:
    """delete_blob of a missing blob raises BlobNotFoundError on both backends (S3 too)."""
    _assert_not_found(backend, lambda: storage_client.delete_blob("e/none.bin"), "e/none.bin")


def test_delete_missing_ok_returns_false(storage_client: StorageClient) -> None:
    """delete_blob(missing_ok=True) of a missing blob returns False without raising."""
    assert storage_client.delete_blob("e/none.bin", missing_ok=True) is False


def test_delete_twice(storage_client: StorageClient) -> None:
    """The second delete of a blob is a not-found (or False with missing_ok)."""
    storage_client.upload_file("e/twice.bin", b"2")
    assert storage_client.delete_blob("e/twice.bin") is True
    assert storage_client.delete_blob("e/twice.bin", missing_ok=True) is False
    with pytest.raises(BlobNotFoundError):
        storage_client.delete_blob("e/twice.bin")


def test_delete_leaves_siblings(storage_client: StorageClient) -> None:
    """Deleting one blob leaves blobs sharing its prefix untouched."""
    for name in ("e/a", "e/ab", "e/a/b"):
        storage_client.upload_file(name, name.encode())
    storage_client.delete_blob("e/a")
    assert sorted(b.name for b in storage_client.list_blobs(prefix="e/")) == ["e/a/b", "e/ab"]
    assert storage_client.download_blob("e/ab") == b"e/ab"
