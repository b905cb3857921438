"""Whose fault is it? The breaker counts only the service's own failures; 501 is permanent.

Before, the breaker counted every exception but a short list of caller's mistakes, so a
client's own fault (an upload refused as too large, a client hanging up mid-body: both
surface as the caller's data source raising inside the storage call) opened it for every
user; and 501 Not Implemented was retried as an outage.
"""

from __future__ import annotations

from typing import ClassVar

import pytest

from crownsafe.errors import (
    NonRetryableUploadError,
    StorageIntegrityError,
    StorageNotSupportedError,
    StorageThrottledError,
    StorageUnavailableError,
    UploadLengthMismatchError,
)
from crownsafe.resilience import CircuitBreaker, CircuitState, RetryPolicy, is_retryable
from crownsafe.storage.s3._errors import classify_s3_error, error_from_response


class ClientWentAway(Exception):
    """What a request body source raises when its HTTP client hung up (or was refused)."""


def fail_with(exc: BaseException) -> None:
    raise exc


CLIENT_FAULTS = [
    ClientWentAway("the upload was aborted: 413 too large"),
    ClientWentAway("the client disconnected mid-body"),
    UploadLengthMismatchError("the stream ended after 10 bytes (length=100)"),
    StorageNotSupportedError("no ListObjectVersions", status=501),
    StorageIntegrityError("stored 1067 bytes, sent 1024"),
    NonRetryableUploadError("the source broke after 10 bytes"),
    ValueError("a bug in the caller"),
]


@pytest.mark.parametrize("error", CLIENT_FAULTS, ids=lambda e: type(e).__name__)
def test_a_clients_own_fault_never_opens_the_breaker(error: BaseException) -> None:
    breaker = CircuitBreaker("t", failure_threshold=2, clock=lambda: 0.0)
    for _ in range(10):
        with pytest.raises(type(error)):
            breaker.call(fail_with, error)
    assert breaker.state is CircuitState.CLOSED
    assert breaker.stats().consecutive_failures == 0


@pytest.mark.parametrize(
    "error",
    [
        StorageThrottledError("busy", status=503),
        StorageUnavailableError("down", status=500),
        ConnectionResetError("reset"),
        TimeoutError("timed out"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_the_services_failures_open_it(error: BaseException) -> None:
    breaker = CircuitBreaker("t", failure_threshold=2, clock=lambda: 0.0)
    for _ in range(2):
        with pytest.raises(type(error)):
            breaker.call(fail_with, error)
    assert breaker.state is CircuitState.OPEN


def test_a_non_retryable_upload_counts_as_its_cause() -> None:
    breaker = CircuitBreaker("t", failure_threshold=1, clock=lambda: 0.0)
    by_service = NonRetryableUploadError("partial body sent")
    by_service.__cause__ = StorageUnavailableError("reset", status=500)
    assert breaker.counts(by_service)
    by_client = NonRetryableUploadError("partial body sent")
    by_client.__cause__ = ClientWentAway("hung up")
    assert not breaker.counts(by_client)


def test_501_is_not_retried() -> None:
    sleeps: list[float] = []
    attempts = 0

    def lacking() -> None:
        nonlocal attempts
        attempts += 1
        raise StorageNotSupportedError("not implemented", status=501)

    with pytest.raises(StorageNotSupportedError):
        RetryPolicy(max_retries=3, sleep=sleeps.append).call(lacking)
    assert attempts == 1 and sleeps == []


@pytest.mark.parametrize(
    ("status", "code"),
    [(501, "NotImplemented"), (405, "MethodNotAllowed"), (501, None)],
)
def test_s3_says_the_service_lacks_the_operation(status: int, code: str | None) -> None:
    assert classify_s3_error(status, code) is StorageNotSupportedError
    response = {
        "Error": {"Code": code or str(status), "Message": "A header you provided implies "
                  "functionality that is not implemented."},
        "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": "R1", "HTTPHeaders": {}},
    }  # fmt: skip
    error = error_from_response(response, operation="list_object_versions", bucket="b")
    assert isinstance(error, StorageNotSupportedError) and not is_retryable(error)
    text = str(error)
    assert "does not implement list_object_versions" in text
    assert "lacks the operation (not retried)" in text
    assert "resilience layer retries" not in text


def test_azure_says_the_service_lacks_the_operation() -> None:
    from azure.core.exceptions import HttpResponseError

    from crownsafe.storage.azure._errors import map_azure_error

    class Response:
        status_code = 501
        reason = "Not Implemented"
        headers: ClassVar[dict[str, str]] = {
            "x-ms-error-code": "NotImplemented",
            "x-ms-request-id": "R2",
        }

        def text(self) -> str:
            return ""

    exc = HttpResponseError(message="The requested operation is not implemented.")
    exc.status_code = 501
    exc.response = Response()  # type: ignore[assignment]
    error = map_azure_error(exc, operation="set_blob_tags")
    assert isinstance(error, StorageNotSupportedError), repr(error)
    assert "does not implement set_blob_tags" in str(error)
    assert not is_retryable(error)
