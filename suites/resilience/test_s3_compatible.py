"""Uploads to an S3-compatible service none of us wrote (harness/services/s3_limited).

The stand-in stores botocore's aws-chunked framing as data (1,024 bytes read back as
~1,067, answered 200) and, optionally, stores a PUT cut short with what arrived. What the
client promises there:

- a streamed upload is never stored wrong: with the default S3_REQUEST_CHECKSUMS it
  fails loudly (`StorageIntegrityError`) and leaves nothing wrong behind; with
  `when_required` it is sent plain and stored exactly;
- an overwrite never damages the old object, whether the service misreads the body or
  the client hangs up mid-body;
- the one gap no client can close, recorded as a fact: a single PutObject (bytes, a file)
  cut short by the network on a service that stores cut PUTs replaces the object with
  what arrived, until the resilience layer's retry sends it whole again.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from crownsafe.errors import StorageError, StorageIntegrityError
from crownsafe.storage.s3 import S3StorageClient
from harness.faults import FaultProxyServer, open_fault_proxy
from harness.services.s3_limited import LimitedS3Service, S3Limits

pytestmark = [pytest.mark.timeout(120)]

KIB = 1024
DATA = bytes(range(256)) * 4 * 3  # 3 KiB
OLD = b"the old object, whole"


class Pipe(io.RawIOBase):
    """A non-seekable source (an HTTP request body); `break_after` bytes, then it breaks,
    as when the uploading client hangs up mid-body."""

    def __init__(self, data: bytes, break_after: int | None = None) -> None:
        self._data = io.BytesIO(data if break_after is None else data[:break_after])
        self._breaks = break_after is not None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self._data.readinto(buffer)
        if not count and self._breaks:
            raise ConnectionResetError("the uploading client hung up")
        return count


@pytest.fixture(scope="module")
def limited() -> Iterator[LimitedS3Service]:
    """moto behind the stand-in: framing stored as data, cut PUTs stored."""
    with LimitedS3Service(S3Limits(store_framing=True, store_cut_puts=True)) as service:
        yield service


ClientFactory = Callable[..., S3StorageClient]


@pytest.fixture
def client_for(limited: LimitedS3Service) -> Iterator[ClientFactory]:
    made: list[S3StorageClient] = []

    def build(
        checksums: str, endpoint: str | None = None, bucket: str | None = None
    ) -> S3StorageClient:
        """A client on a fresh bucket; with `endpoint` (a proxy), on `bucket`, made elsewhere."""
        client = S3StorageClient(
            bucket or f"compat-{uuid.uuid4().hex[:12]}",
            endpoint_url=endpoint or limited.endpoint_url,
            region=limited.region,
            access_key_id=limited.access_key_id,
            secret_access_key=limited.secret_access_key,
            # the default ("when_supported") is not passed: what a user who never set it has
            **({} if checksums == "when_supported" else {"request_checksums": checksums}),
        )
        if endpoint is None:
            client.create_container()
            made.append(client)
        return client

    yield build
    for client in made:
        client.delete_container()
        client.close()


def stored(client: S3StorageClient) -> dict[str, int]:
    return {blob.name: blob.size for blob in client.list_blobs()}


def test_a_streamed_new_object_fails_loudly_and_leaves_nothing(client_for: ClientFactory) -> None:
    """Default checksums on a service that stores the framing: an error, no object."""
    client = client_for("when_supported")
    with pytest.raises(StorageIntegrityError) as caught:
        client.upload_file("new.bin", Pipe(DATA), overwrite=False, length=len(DATA))
    text = str(caught.value)
    assert f"not the {len(DATA)} bytes sent" in text and "was removed" in text
    assert "S3_REQUEST_CHECKSUMS=when_required" in text
    assert stored(client) == {}


def test_a_streamed_overwrite_fails_loudly_and_keeps_the_old_object(
    client_for: ClientFactory,
) -> None:
    client = client_for("when_supported")
    client.upload_file("kept.bin", OLD)
    with pytest.raises(StorageIntegrityError) as caught:
        client.upload_file("kept.bin", Pipe(DATA), length=len(DATA))
    assert "existing object is unchanged" in str(caught.value)
    assert client.download_blob("kept.bin") == OLD


@pytest.mark.parametrize("overwrite", [False, True], ids=["new", "overwrite"])
def test_when_required_stores_the_exact_bytes(client_for: ClientFactory, overwrite: bool) -> None:
    """S3_REQUEST_CHECKSUMS=when_required: plain bodies, checked by size, stored exactly."""
    client = client_for("when_required")
    if overwrite:
        client.upload_file("exact.bin", OLD)
    client.upload_file("exact.bin", Pipe(DATA), overwrite=overwrite, length=len(DATA))
    client.upload_file("bytes.bin", DATA)
    assert client.download_blob("exact.bin") == DATA
    assert client.download_blob("bytes.bin") == DATA


@pytest.mark.parametrize("checksums", ["when_supported", "when_required"])
def test_a_client_hanging_up_mid_overwrite_never_damages_the_old_object(
    client_for: ClientFactory, limited: LimitedS3Service, checksums: str
) -> None:
    """The stand-in stores a cut PUT with what arrived; the streamed overwrite goes
    through a multipart upload that a cut part never completes."""
    client = client_for(checksums)
    client.upload_file("victim.bin", OLD)
    before = limited.cut_puts_seen
    with pytest.raises((StorageError, ConnectionResetError)):
        client.upload_file("victim.bin", Pipe(DATA, break_after=KIB), length=len(DATA))
    # seen, not stored: the client's abort may reach the service before the cut part
    assert limited.wait_for_cut_puts(before + 1, stored=False), "the stand-in never saw it"
    assert client.download_blob("victim.bin") == OLD


def test_a_client_hanging_up_mid_new_upload_leaves_nothing(
    client_for: ClientFactory, limited: LimitedS3Service
) -> None:
    """when_required: a new streamed object goes multipart too (a plain PUT cut short
    would be stored by such a service)."""
    client = client_for("when_required")
    before = limited.cut_puts_seen
    with pytest.raises((StorageError, ConnectionResetError)):
        client.upload_file("partial.bin", Pipe(DATA, break_after=KIB), False, length=len(DATA))
    assert limited.wait_for_cut_puts(before + 1, stored=False)
    assert stored(client) == {}


def test_gap_a_single_put_cut_by_the_network_replaces_the_object(
    client_for: ClientFactory, limited: LimitedS3Service
) -> None:
    """Recorded gap (a fact of such services, not a promise we keep): a one-request
    PutObject of bytes whose connection is cut after 1 KiB of body replaces the object
    with what arrived. No client can prevent it on one request; the resilience layer
    retries the whole object, and S3 itself (and moto, Azurite) store nothing."""
    owner = client_for("when_required")
    owner.upload_file("gap.bin", OLD)
    with FaultProxyServer() as server:
        proxy = open_fault_proxy(server, "cut", (limited.host, limited.port), flavor="s3")
        proxy.add_toxic("cut", "limit_data", "upstream", attributes={"bytes": 2 * KIB})
        endpoint = f"http://{proxy.host}:{proxy.port}"
        with client_for("when_required", endpoint, owner.container_name) as cut:
            before = limited.cut_puts_stored
            with pytest.raises(StorageError):
                cut.upload_file("gap.bin", DATA * 4)
    assert limited.wait_for_cut_puts(before + 1)
    damaged = owner.download_blob("gap.bin")
    assert damaged != OLD and len(damaged) < len(DATA * 4), "the gap closed: update the docs"
