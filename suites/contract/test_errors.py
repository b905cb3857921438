"""Typed errors at the edges: unreachable service, missing container, bad credentials, secrets."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from crownsafe.errors import (
    BlobNotFoundError,
    StorageAuthError,
    StorageError,
    StorageUnavailableError,
)
from crownsafe.storage.base import StorageClient
from harness.fixtures.storage import build_storage_client

from .helpers import ResettingListener, assert_no_secret, check_each

pytestmark = pytest.mark.contract

NETWORK_OPERATIONS: dict[str, Callable[[StorageClient], object]] = {
    "upload_file": lambda c: c.upload_file("err/x.bin", b"x"),
    "upload_file(stream)": lambda c: c.upload_file("err/x.bin", io.BytesIO(b"x")),
    "download_blob": lambda c: c.download_blob("err/x.bin"),
    "head_object": lambda c: c.head_object("err/x.bin"),
    "blob_exists": lambda c: c.blob_exists("err/x.bin"),
    "delete_blob": lambda c: c.delete_blob("err/x.bin"),
    "list_blobs": lambda c: c.list_blobs(),
}
WRONG_AZURE_KEY = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktd3Jvbmcta2V5LXdyb25nLWtleQ=="
WRONG_S3_SECRET = "wrong-secret-access-key-for-the-contract-suite"


def test_unreachable_service_raises_unavailable(
    unreachable_client: StorageClient, backend: str, secrets: list[str]
) -> None:
    """A closed port gives a typed StorageUnavailableError naming backend and operation."""

    def check(call: Callable[[StorageClient], object]) -> None:
        with pytest.raises(StorageUnavailableError) as caught:
            call(unreachable_client)
        error = caught.value
        assert error.backend == backend
        assert error.operation, "the error names no operation"
        assert error.hint, "the error does not say how to fix it"
        assert_no_secret(str(error), secrets)

    check_each(NETWORK_OPERATIONS, check)


def test_failed_connection_is_attempted_once(
    backend: str,
    storage_client: StorageClient,
    make_storage_client: Callable[..., StorageClient],
    resetting_listener: ResettingListener,
) -> None:
    """A reset connection fails the call on its one attempt: the SDK's own retries are off."""
    client = make_storage_client(
        backend, container=storage_client.container_name, endpoint=resetting_listener.endpoint
    )
    resetting_listener.take()

    def check(call: Callable[[StorageClient], object]) -> None:
        with pytest.raises(StorageUnavailableError):
            call(client)
        attempts = resetting_listener.take()
        assert attempts == 1, f"[{backend}] {attempts} connection attempts for one call"

    check_each(NETWORK_OPERATIONS, check)


def test_missing_container_raises_not_found(
    backend: str, storage_client: StorageClient, client_at: Callable[..., StorageClient]
) -> None:
    """Writing into a container/bucket that does not exist raises BlobNotFoundError 404."""
    missing = client_at(backend, "crownsafe-no-such-container")
    with pytest.raises(BlobNotFoundError) as caught:
        missing.upload_file("x.bin", b"x")
    assert caught.value.status == 404
    expected = {"azure": "ContainerNotFound", "s3": "NoSuchBucket"}[backend]
    assert caught.value.error_code == expected


def test_wrong_credentials_raise_auth_error(
    backend: str,
    storage_client: StorageClient,
    client_at: Callable[..., StorageClient],
    secrets: list[str],
) -> None:
    """A wrong account key / secret access key is StorageAuthError 403, with no secret shown."""
    wrong_secret = WRONG_AZURE_KEY if backend == "azure" else WRONG_S3_SECRET
    wrong = client_at(backend, storage_client.container_name, wrong_secret=wrong_secret)
    with pytest.raises(StorageAuthError) as caught:
        wrong.upload_file("err/wrong-key.bin", b"refused")
    error = caught.value
    assert error.status == 403
    # Real Azure says AuthenticationFailed; Azurite 3.35 says AuthorizationFailure.
    expected = {
        "azure": {"AuthenticationFailed", "AuthorizationFailure"},
        "s3": {"SignatureDoesNotMatch", "InvalidAccessKeyId"},
    }[backend]
    assert error.error_code in expected
    assert error.request_id
    assert error.hint, "an auth error says how to fix it"
    assert_no_secret(str(error), [*secrets, WRONG_AZURE_KEY, WRONG_S3_SECRET])
    assert not storage_client.blob_exists("err/wrong-key.bin")


def test_error_messages_never_contain_secrets(
    backend: str,
    storage_client: StorageClient,
    unreachable_client: StorageClient,
    client_at: Callable[..., StorageClient],
    secrets: list[str],
) -> None:
    """No typed error's message, repr or log fields shows a key, connection string or sig.

    The errors it must see are ones every Azure and S3-compatible service gives (a missing
    blob, a missing container, a closed port), so its checks run on every target; a wrong
    secret and a create-only conflict are checked too where the target refuses them (moto
    checks no signature; some services have no conditional writes)."""
    storage_client.upload_file("err/exists.bin", b"e")
    missing = client_at(backend, "crownsafe-no-such-container")
    wrong_secret = WRONG_AZURE_KEY if backend == "azure" else WRONG_S3_SECRET
    wrong = client_at(backend, storage_client.container_name, wrong_secret=wrong_secret)
    everywhere: list[Callable[[], object]] = [
        lambda: storage_client.head_object("err/missing.bin"),
        lambda: storage_client.download_blob("err/missing.bin"),
        lambda: storage_client.delete_blob("err/missing.bin"),
        lambda: missing.upload_file("err/x.bin", b"x"),
        lambda: missing.download_blob("err/x.bin"),
        lambda: unreachable_client.download_blob("err/exists.bin"),
        lambda: unreachable_client.upload_file("err/exists.bin", b"x"),
    ]
    where_refused: list[Callable[[], object]] = [
        lambda: wrong.upload_file("err/wrong-key.bin", b"x"),
        lambda: storage_client.upload_file("err/exists.bin", b"x", overwrite=False),
    ]
    errors: list[StorageError] = []
    for attempt in everywhere:
        with pytest.raises(StorageError) as caught:
            attempt()
        errors.append(caught.value)
    for attempt in where_refused:
        try:
            attempt()
        except StorageError as error:
            errors.append(error)
    kinds = {type(error) for error in errors}
    assert {BlobNotFoundError, StorageUnavailableError} <= kinds
    shown = [*secrets, WRONG_AZURE_KEY, WRONG_S3_SECRET]
    for error in errors:
        for text in (str(error), repr(error), repr(error.log_fields())):
            assert_no_secret(text, shown)
        # A logged traceback prints the whole chain: the SDK errors must be clean too.
        chained: BaseException | None = error.__cause__ or error.__context__
        while chained is not None:
            assert_no_secret(f"{type(chained).__name__}: {chained}", shown)
            chained = chained.__cause__ or chained.__context__


# -- a missing container/bucket is named, with a hint to create or configure it ----------


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
