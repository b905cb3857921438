"""The limited S3 stand-in behaves like the services it stands for (harness/services/s3_limited).

Each limit is checked with a bare boto3 client (botocore's defaults, as a user has them),
so the suites that prove our fixes against it prove them against the real behaviour.
"""

from __future__ import annotations

import io
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import psutil
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from harness.services.s3_limited import LimitedS3Service, S3Limits


@pytest.fixture(scope="module")
def limited() -> Iterator[LimitedS3Service]:
    with LimitedS3Service(S3Limits(store_cut_puts=True)) as service:
        yield service


def _client(service: LimitedS3Service, **config: Any) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=service.endpoint_url,
        region_name=service.region,
        aws_access_key_id=service.access_key_id,
        aws_secret_access_key=service.secret_access_key,
        config=Config(
            s3={"addressing_style": "path", "payload_signing_enabled": False},
            retries={"total_max_attempts": 1},
            **config,
        ),
    )


@pytest.fixture
def bucket(limited: LimitedS3Service) -> str:
    name = f"limited-{uuid.uuid4().hex[:12]}"
    _client(limited).create_bucket(Bucket=name)
    return name


class _Unseekable(io.RawIOBase):
    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._data.readinto(buffer)


@pytest.mark.parametrize(
    ("call", "operation"),
    [
        (lambda c, b: c.list_multipart_uploads(Bucket=b), "list_multipart_uploads"),
        (lambda c, b: c.list_object_versions(Bucket=b), "list_object_versions"),
        (
            lambda c, b: c.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "k"}]}),
            "delete_objects",
        ),
    ],
)
def test_unsupported_operations_answer_501(
    limited: LimitedS3Service, bucket: str, call: Any, operation: str
) -> None:
    """The three operations bucket emptying used to need are refused, never forwarded."""
    before = limited.requests()["refused"][operation]
    with pytest.raises(ClientError) as caught:
        call(_client(limited), bucket)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert caught.value.response["Error"]["Code"] == "NotImplemented"
    assert limited.requests()["refused"][operation] == before + 1
    assert limited.requests()["forwarded"][operation] == 0


def test_status_405_can_be_chosen(limited: LimitedS3Service) -> None:
    limits = S3Limits(unsupported_status=405)
    with LimitedS3Service(limits, upstream=limited.upstream) as service:
        client = _client(service)
        client.create_bucket(Bucket="limited-405")
        with pytest.raises(ClientError) as caught:
            client.list_object_versions(Bucket="limited-405")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 405
    assert caught.value.response["Error"]["Code"] == "MethodNotAllowed"


def _checksum_in_trailer(context: dict[str, Any], **_: Any) -> None:
    """What botocore does by itself over https: the CRC32 goes in an aws-chunked trailer."""
    algorithm = context.get("checksum", {}).get("request_algorithm")
    if isinstance(algorithm, dict):
        algorithm["in"] = "trailer"


def test_aws_chunked_framing_is_stored_as_data(limited: LimitedS3Service, bucket: str) -> None:
    """botocore's streamed PUT (aws-chunked, CRC32 trailer) is answered 200 and stored framed."""
    client = _client(limited, request_checksum_calculation="when_supported")
    client.meta.events.register("before-call.s3.PutObject", _checksum_in_trailer)
    data = bytes(range(256)) * 4
    client.put_object(
        Bucket=bucket, Key="framed", Body=_Unseekable(data), ContentLength=len(data),
        ChecksumAlgorithm="CRC32",
    )  # fmt: skip
    stored = client.get_object(Bucket=bucket, Key="framed")["Body"].read()
    assert len(stored) > len(data)
    assert data in stored and b"x-amz-checksum-crc32:" in stored


def test_plain_bodies_are_stored_as_sent(limited: LimitedS3Service, bucket: str) -> None:
    client = _client(
        limited,
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    data = b"plain bytes " * 100
    client.put_object(Bucket=bucket, Key="plain", Body=_Unseekable(data), ContentLength=len(data))
    assert client.get_object(Bucket=bucket, Key="plain")["Body"].read() == data


class _FailsAfter(_Unseekable):
    """A source that breaks after `size` bytes: the client hangs up mid-body."""

    def __init__(self, data: bytes, size: int) -> None:
        super().__init__(data[:size])

    def readinto(self, buffer: Any) -> int:
        count = super().readinto(buffer)
        if not count:
            raise OSError("the source broke")
        return count


def test_a_put_cut_short_replaces_the_object(limited: LimitedS3Service, bucket: str) -> None:
    """A client that hangs up mid-body leaves what arrived as the object (store_cut_puts)."""
    client = _client(limited, request_checksum_calculation="when_required")
    client.put_object(Bucket=bucket, Key="victim", Body=b"old and whole")
    before = limited.cut_puts_stored
    with pytest.raises((BotoCoreError, OSError)):  # botocore names the hang-up its own way
        client.put_object(
            Bucket=bucket, Key="victim", Body=_FailsAfter(b"partial" * 20, 7), ContentLength=140
        )
    assert limited.wait_for_cut_puts(before + 1)
    assert client.get_object(Bucket=bucket, Key="victim")["Body"].read() == b"partial"


def test_stop_closes_its_port_and_leaves_a_given_upstream_running(
    limited: LimitedS3Service,
) -> None:
    service = LimitedS3Service(upstream=limited.upstream).start()
    port = service.port
    service.stop()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    assert limited.upstream.started and limited.upstream.pid is not None


def test_stop_stops_the_moto_it_started() -> None:
    service = LimitedS3Service().start()
    process = psutil.Process(service.upstream.pid)
    service.stop()
    assert not process.is_running() or process.status() == psutil.STATUS_ZOMBIE
