"""Bad SAS arguments: one expiry rule on both backends, a typed error, no ERROR traceback."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator

import pytest

from crownsafe.errors import InvalidSasRequestError, StorageError
from crownsafe.resilience import CircuitBreaker
from crownsafe.storage.azure import AzureBlobStorageClient
from crownsafe.storage.base import StorageClient
from crownsafe.storage.resilient import OPERATION_LOGGER, ResilientStorageClient
from crownsafe.storage.s3 import S3StorageClient
from crownsafe.storage.sas import SAS_MAX_EXPIRY_HOURS

EMULATOR_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
CONNECTION_STRING = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
    f"AccountKey={EMULATOR_KEY};BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;"
)


@pytest.fixture(params=["azure", "s3"])
def client(request: pytest.FixtureRequest) -> Iterator[StorageClient]:
    """A real client of each backend; signing a SAS needs no network (port 9 is closed)."""
    made: StorageClient
    if request.param == "azure":
        made = AzureBlobStorageClient("unit-sas", connection_string=CONNECTION_STRING)
    else:
        made = S3StorageClient(
            "unit-sas",
            endpoint_url="http://127.0.0.1:9",
            region="us-east-1",
            access_key_id="AKIDEXAMPLE",
            secret_access_key="UNITSECRET",
        )
    yield made
    made.close()


def test_the_maximum_is_sigv4s_seven_days() -> None:
    assert SAS_MAX_EXPIRY_HOURS == 168


@pytest.mark.parametrize("hours", [168.01, 200, 10000, math.inf])
def test_expiry_over_168_hours_is_refused_on_both_backends(
    client: StorageClient, hours: float
) -> None:
    """Azure used to accept expiry_hours=10000 while S3 refused 169: now both refuse."""
    with pytest.raises(InvalidSasRequestError) as caught:
        client.generate_sas_url("a/b.txt", expiry_hours=hours)
    error = caught.value
    assert "168" in str(error) and "Fix:" in str(error)
    assert error.backend == client.backend and error.operation == "generate_sas_url"


@pytest.mark.parametrize("hours", [0, -1, math.nan])
def test_expiry_must_be_positive(client: StorageClient, hours: float) -> None:
    with pytest.raises(InvalidSasRequestError, match="greater than 0"):
        client.generate_sas_url("a/b.txt", expiry_hours=hours)


@pytest.mark.parametrize("hours", [SAS_MAX_EXPIRY_HOURS, 1, 0.01])
def test_expiry_within_the_limits_signs(client: StorageClient, hours: float) -> None:
    assert client.generate_sas_url("a/b.txt", expiry_hours=hours).startswith("http://127.0.0.1:9/")


@pytest.mark.parametrize("permission", ["q", "", "R", "list"])
def test_unknown_permission_letters_raise_the_typed_error(
    client: StorageClient, permission: str
) -> None:
    with pytest.raises(InvalidSasRequestError) as caught:
        client.generate_sas_url("a/b.txt", permission=permission)
    assert isinstance(caught.value, StorageError) and isinstance(caught.value, ValueError)
    assert "Fix:" in str(caught.value)


def test_a_bad_sas_request_logs_a_warning_without_traceback_and_never_trips_the_breaker(
    client: StorageClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Through the resilient client a caller's mistake is one WARNING line, not an ERROR
    with a traceback, and the breaker does not count it as a service failure."""
    breaker = CircuitBreaker("unit-sas", failure_threshold=1)
    resilient = ResilientStorageClient(client, breaker=breaker, sleep=lambda _: None)
    with caplog.at_level(logging.DEBUG, logger="crownsafe"):
        with pytest.raises(InvalidSasRequestError):
            resilient.generate_sas_url("a/b.txt", expiry_hours=10000)
        with pytest.raises(InvalidSasRequestError):
            resilient.generate_sas_url("a/b.txt", permission="q")
    ops = [r for r in caplog.records if r.name == OPERATION_LOGGER]
    assert [(r.levelno, r.__dict__["outcome"]) for r in ops] == [(logging.INFO, "error")] * 2
    records = [
        r for r in caplog.records if r.name.startswith("crownsafe") and r.name != OPERATION_LOGGER
    ]
    assert len(records) == 2, "the failure is logged once per call"
    for record in records:
        assert record.levelno == logging.WARNING, (record.levelname, record.getMessage())
        assert record.exc_info is None and "Traceback" not in record.getMessage()
    assert breaker.stats().consecutive_failures == 0 and breaker.stats().opened_count == 0
