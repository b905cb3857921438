"""Managed identity on Azure: bearer-token auth and user delegation SAS, end to end.

Runs against its own Azurite over HTTPS with `--oauth basic` (user delegation keys need
both, docs/emulators.md) and `harness.identity.FakeTokenCredential`, a test credential whose
unsigned JWTs Azurite accepts (it checks aud/iss/nbf/exp, not the signature). What the
emulator cannot show: a real Azure AD token and RBAC role checks (a real account would
need the "Storage Blob Data Contributor" role plus "Delegator" for the key).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from crownsafe.storage.azure import AzureBlobStorageClient
from harness.identity import STORAGE_AUDIENCE, FakeTokenCredential
from harness.plugin import selected_backends
from harness.services.azurite import AzuriteService

pytestmark = pytest.mark.contract

HTTP_TIMEOUT = 30
ClientFactory = Callable[..., AzureBlobStorageClient]


@pytest.fixture(scope="module")
def oauth_azurite(request: pytest.FixtureRequest) -> Iterator[AzuriteService]:
    """An Azurite of this module only: HTTPS with a self-signed cert, OAuth basic."""
    if "azure" not in selected_backends(request.config):
        pytest.skip("the azure backend is not selected (--backends)")
    with AzuriteService("local", oauth=True) as service:
        yield service


@pytest.fixture
def credential() -> FakeTokenCredential:
    return FakeTokenCredential()


@pytest.fixture
def mi_client(
    oauth_azurite: AzuriteService, credential: FakeTokenCredential
) -> Iterator[ClientFactory]:
    """mi_client(**kwargs): a token-credential client on a fresh container."""
    made: list[AzureBlobStorageClient] = []
    container = f"mi-{uuid.uuid4().hex[:12]}"

    def build(**kwargs: Any) -> AzureBlobStorageClient:
        client = AzureBlobStorageClient(
            container,
            account_url=oauth_azurite.blob_endpoint,
            credential=kwargs.pop("credential", credential),
            connection_verify=str(oauth_azurite.cert_path),
            **kwargs,
        )
        client.create_container()
        made.append(client)
        return client

    yield build
    if made:
        made[0].delete_container()
    for client in made:
        client.close()


def fetch(url: str, service: AzuriteService, method: str = "GET", **kwargs: Any) -> Any:
    return requests.request(
        method, url, verify=str(service.cert_path), timeout=HTTP_TIMEOUT, **kwargs
    )


def sas_params(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


@pytest.mark.parametrize("backend", ["azure"])
def test_token_credential_uploads_and_reads(
    backend: str, mi_client: ClientFactory, credential: FakeTokenCredential
) -> None:
    """A managed-identity client (bearer token, no key) round-trips bytes and properties."""
    client = mi_client()
    assert client.auth_mode == "token"
    client.upload_file("mi/hello.txt", b"hello identity", content_type="text/plain")
    assert client.download_blob("mi/hello.txt") == b"hello identity"
    assert client.head_object("mi/hello.txt").content_type == "text/plain"
    assert credential.calls >= 1
    assert all(scope == (f"{STORAGE_AUDIENCE}/.default",) for scope in credential.scopes)


@pytest.mark.parametrize("backend", ["azure"])
def test_user_delegation_sas_is_fetched_with_plain_http(
    backend: str,
    mi_client: ClientFactory,
    oauth_azurite: AzuriteService,
    credential: FakeTokenCredential,
) -> None:
    """The SAS of a managed identity is a user delegation SAS a plain client can read with."""
    client = mi_client()
    client.upload_file("mi/report.pdf", b"%PDF-1.7 delegated")
    url = client.generate_sas_url("mi/report.pdf", expiry_hours=1, permission="r")
    response = fetch(url, oauth_azurite)
    assert response.status_code == 200, response.text[:300]
    assert response.content == b"%PDF-1.7 delegated"
    params = sas_params(url)
    assert params["sp"] == "r"
    assert params["skoid"] == credential.object_id
    assert params["sktid"] == credential.tenant_id
    assert {"skt", "ske", "sks", "skv", "sig"} <= params.keys()
    assert oauth_azurite.account_key not in url


@pytest.mark.parametrize("backend", ["azure"])
def test_read_only_delegation_sas_cannot_write(
    backend: str, mi_client: ClientFactory, oauth_azurite: AzuriteService
) -> None:
    client = mi_client()
    client.upload_file("mi/ro.txt", b"original")
    url = client.generate_sas_url("mi/ro.txt", expiry_hours=1, permission="r")
    response = fetch(url, oauth_azurite, "PUT", data=b"x", headers={"x-ms-blob-type": "BlockBlob"})
    assert response.status_code == 403
    assert response.headers.get("x-ms-error-code") == "AuthorizationPermissionMismatch"
    assert client.download_blob("mi/ro.txt") == b"original"


@pytest.mark.parametrize("backend", ["azure"])
def test_write_delegation_sas_creates_a_blob(
    backend: str, mi_client: ClientFactory, oauth_azurite: AzuriteService
) -> None:
    client = mi_client()
    url = client.generate_sas_url("mi/new.bin", expiry_hours=1, permission="w")
    response = fetch(
        url, oauth_azurite, "PUT", data=b"\x00\x01sas", headers={"x-ms-blob-type": "BlockBlob"}
    )
    assert response.status_code == 201, response.text[:300]
    assert client.download_blob("mi/new.bin") == b"\x00\x01sas"
    assert fetch(url, oauth_azurite).status_code == 403


@pytest.mark.parametrize("backend", ["azure"])
def test_expired_delegation_sas_cannot_read(
    backend: str, mi_client: ClientFactory, oauth_azurite: AzuriteService
) -> None:
    """Signed as if two hours ago for one hour (injected clock): the service refuses it."""
    signed_at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    client = mi_client()
    client.upload_file("mi/old.txt", b"stale")
    past = mi_client(clock=lambda: signed_at)
    url = past.generate_sas_url("mi/old.txt", expiry_hours=1, permission="r")
    response = fetch(url, oauth_azurite)
    assert response.status_code == 403
    assert response.headers.get("x-ms-error-code") == "AuthorizationFailure"


@pytest.mark.parametrize("backend", ["azure"])
def test_delegation_key_is_cached_and_renewed_for_a_longer_sas(
    backend: str, mi_client: ClientFactory, oauth_azurite: AzuriteService
) -> None:
    """One key serves SAS URLs it covers; a SAS outliving it gets a new key; all work."""
    client = mi_client(delegation_key_lifetime=timedelta(minutes=30))
    client.upload_file("mi/cached.txt", b"cached")
    urls = [client.generate_sas_url("mi/cached.txt", expiry_hours=0.25) for _ in range(3)]
    keys = client._delegation_keys
    assert keys is not None and keys.fetch_count == 1
    urls.append(client.generate_sas_url("mi/cached.txt", expiry_hours=2))
    assert keys.fetch_count == 2
    assert len({sas_params(u)["ske"] for u in urls}) == 2
    for url in urls:
        response = fetch(url, oauth_azurite)
        assert (response.status_code, response.content) == (200, b"cached")


@pytest.mark.parametrize("backend", ["azure"])
def test_async_client_with_an_async_token_credential(
    backend: str, oauth_azurite: AzuriteService, credential: FakeTokenCredential
) -> None:
    """The async client with an async credential (as `azure.identity.aio` gives): bearer
    round trip, then a user delegation SAS a plain client reads with, its key fetched
    once for the SAS URLs it covers."""
    from crownsafe.storage.azure import AsyncAzureBlobStorageClient
    from harness.fixtures.async_bridge import BlockingStorageClient
    from harness.identity import FakeAsyncTokenCredential

    client = BlockingStorageClient(
        AsyncAzureBlobStorageClient(
            f"mi-async-{uuid.uuid4().hex[:12]}",
            account_url=oauth_azurite.blob_endpoint,
            credential=FakeAsyncTokenCredential(credential),
            connection_verify=str(oauth_azurite.cert_path),
        )
    )
    try:
        client.create_container()
        assert client.auth_mode == "token"
        client.upload_file("mi/async.txt", b"async identity", content_type="text/plain")
        assert client.download_blob("mi/async.txt") == b"async identity"
        urls = [client.generate_sas_url("mi/async.txt", expiry_hours=0.5) for _ in range(2)]
        assert client._delegation_keys.fetch_count == 1
        for url in urls:
            response = fetch(url, oauth_azurite)
            assert (response.status_code, response.content) == (200, b"async identity")
            assert sas_params(url)["skoid"] == credential.object_id
        assert credential.calls >= 1
        assert all(scope == (f"{STORAGE_AUDIENCE}/.default",) for scope in credential.scopes)
        client.delete_container()
    finally:
        client.close()
