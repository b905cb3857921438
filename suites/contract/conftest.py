"""Fixtures of the contract suite (its helpers live in helpers.py and sigv4.py).

The fixtures every test uses (`storage_client`, `backend_name`, `storage_target`,
`target_services`, `make_storage_client`, `run_dir`) come from the harness plugin; these
add the secrets a message must never show, clients with wrong keys or at a closed port,
an expired SAS and the recorder of emulator facts. Each reads the services of the test's
own target (`target_services`), so they work on every target the contract runs on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from crownsafe.storage.base import StorageClient
from harness.services.provision import ProvisionedServices
from harness.targets import Target

from .helpers import GapRecorder, ResettingListener, closed_port
from .sigv4 import sigv4_resign


@pytest.fixture
def backend(storage_client: StorageClient) -> str:
    """The backend of the test's fresh client: 'azure' or 's3'."""
    return storage_client.backend


@pytest.fixture
def secrets(backend_name: str, target_services: ProvisionedServices) -> list[str]:
    """Every secret of the test's target: none may appear in a message.

    A dummy secret equal to its public access key id (moto's "testing", LocalStack's
    "test"), which a presigned URL shows by design (X-Amz-Credential), is left out.
    """
    public: set[str] = set()
    values: list[str] = []
    if backend_name == "azure":
        azure = target_services.azure
        public.add(azure.account_name)
        values += [azure.account_key, azure.connection_string]
    else:
        s3 = target_services.s3
        public.add(s3.access_key_id)
        values.append(s3.secret_access_key)
    return [str(v) for v in values if v and str(v) not in public]


@pytest.fixture
def client_at(
    target_services: ProvisionedServices, storage_api: str
) -> Iterator[Callable[..., StorageClient]]:
    """client_at(backend, container, wrong_secret=None, **client_kwargs): a bare client
    (of the test's storage API).

    Unlike `make_storage_client` it never creates the container (so it can name a missing
    one) and can sign with a wrong account key / secret access key. No network call.
    """
    from harness.fixtures.storage import build_storage_client

    made: list[StorageClient] = []

    def build(
        backend: str, container: str, *, wrong_secret: str | None = None, **client_kwargs: Any
    ) -> StorageClient:
        client = build_storage_client(
            target_services,
            backend,
            container,
            api=storage_api,
            wrong_secret=wrong_secret,
            **client_kwargs,
        )
        made.append(client)
        return client

    yield build
    for client in made:
        client.close()


@pytest.fixture
def unreachable_client(
    backend: str, storage_client: StorageClient, make_storage_client: Callable[..., StorageClient]
) -> StorageClient:
    """A client of the test's backend pointed at a loopback port nothing listens on."""
    return make_storage_client(
        backend,
        container=storage_client.container_name,
        endpoint=f"http://127.0.0.1:{closed_port()}",
    )


@pytest.fixture
def resetting_listener() -> Iterator[ResettingListener]:
    listener = ResettingListener()
    yield listener
    listener.close()


@pytest.fixture
def sas_signed_at() -> Callable[[timedelta], datetime]:
    """signed_at(ago): the signing time `ago` before now, to whole seconds (SAS precision)."""
    return lambda ago: datetime.now(UTC).replace(microsecond=0) - ago


@pytest.fixture
def expired_sas_url(
    backend: str,
    target_services: ProvisionedServices,
    client_at: Callable[..., StorageClient],
    sas_signed_at: Callable[[timedelta], datetime],
) -> Callable[[StorageClient, str], str]:
    """expired_sas_url(client, name): a read SAS for `name`, signed two hours ago, expired.

    Azure: the client's own `clock` seam signs as if two hours ago, for one hour.
    S3: botocore has no clock seam and refuses a past expiry, so the client's presigned
    URL is re-signed (correctly, with the target's secret) as if made two hours ago, for
    1 s. Far past any clock-skew allowance; no waiting.
    """
    signed_at = sas_signed_at(timedelta(hours=2))

    def make(client: StorageClient, name: str) -> str:
        if backend == "azure":
            past = client_at("azure", client.container_name, clock=lambda: signed_at)
            return past.generate_sas_url(name, expiry_hours=1, permission="r")
        fresh = client.generate_sas_url(name, expiry_hours=1, permission="r")
        secret = target_services.s3.secret_access_key
        return sigv4_resign(fresh, secret, signed_at=signed_at, expires_s=1)

    return make


@pytest.fixture(scope="session")
def gap_recorder(run_dir: Path) -> GapRecorder:
    return GapRecorder(run_dir)


@pytest.fixture
def record_gap(
    gap_recorder: GapRecorder, request: pytest.FixtureRequest, storage_target: Target
) -> Callable[[str, str, str], None]:
    """record_gap(check, fact, asserted_instead): note what the target showed instead."""

    def record(check: str, fact: str, asserted_instead: str) -> None:
        test = request.node.originalname or request.node.name
        gap_recorder.record(test, storage_target, check, fact, asserted_instead)

    return record
