"""Unit tests: Azure SDK exceptions -> crownsafe typed errors (pure logic, constructed errors)."""

from __future__ import annotations

import pytest
from azure.core.exceptions import (
    ClientAuthenticationError,
    DecodeError,
    HttpResponseError,
    IncompleteReadError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceRequestTimeoutError,
    ServiceResponseError,
    ServiceResponseTimeoutError,
)

from crownsafe.errors import (
    BlobConflictError,
    BlobNotFoundError,
    InvalidBlobNameError,
    InvalidMetadataError,
    StorageAuthError,
    StorageError,
    StorageThrottledError,
    StorageUnavailableError,
)
from crownsafe.storage.azure._errors import map_azure_error

KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
SAS_URL = (
    "http://127.0.0.1:10000/devstoreaccount1/c/b.txt?se=2030-01-01T00%3A00%3A00Z&sp=r"
    "&sv=2025-01-05&sr=b&sig=SECRETSIGNATUREvalue%3D"
)


class FakeResponse:
    """The attributes of an azure-core HTTP response that HttpResponseError reads."""

    def __init__(
        self, status: int, headers: dict[str, str] | None = None, reason: str = ""
    ) -> None:
        self.status_code = status
        self.headers = headers or {}
        self.reason = reason or "Reason"
        self.request = None

    def text(self, encoding: str | None = None) -> str:
        return ""


def http_error(
    status: int,
    code: str | None = None,
    *,
    headers: dict[str, str] | None = None,
    message: str = "The service said no.",
    cls: type[HttpResponseError] = HttpResponseError,
) -> HttpResponseError:
    all_headers = {"x-ms-request-id": "req-123", **(headers or {})}
    error = cls(
        message=f"{message}\nRequestId:req-123\nErrorCode:{code}",
        response=FakeResponse(status, all_headers),
    )
    if code is not None:
        error.error_code = code  # type: ignore[attr-defined]
    return error


def mapped(exc: BaseException, blob: str | None = "a/b.txt") -> StorageError:
    return map_azure_error(exc, operation="upload_file", blob_name=blob)


@pytest.mark.parametrize(
    ("status", "code", "cls", "expected"),
    [
        (404, "BlobNotFound", ResourceNotFoundError, BlobNotFoundError),
        (404, "ContainerNotFound", ResourceNotFoundError, BlobNotFoundError),
        (409, "BlobAlreadyExists", ResourceExistsError, BlobConflictError),
        (412, "ConditionNotMet", ResourceModifiedError, BlobConflictError),
        (403, "AuthorizationPermissionMismatch", HttpResponseError, StorageAuthError),
        (403, "AuthenticationFailed", ClientAuthenticationError, StorageAuthError),
        (401, "InvalidAuthenticationInfo", ClientAuthenticationError, StorageAuthError),
        (429, "TooManyRequests", HttpResponseError, StorageThrottledError),
        (503, "ServerBusy", HttpResponseError, StorageThrottledError),
        (503, "ServiceUnavailable", HttpResponseError, StorageUnavailableError),
        (500, "InternalError", HttpResponseError, StorageUnavailableError),
        (500, "OperationTimedOut", HttpResponseError, StorageUnavailableError),
        (408, None, HttpResponseError, StorageUnavailableError),
        (502, None, HttpResponseError, StorageUnavailableError),
        (400, "InvalidMetadata", HttpResponseError, InvalidMetadataError),
        (400, "InvalidResourceName", HttpResponseError, InvalidBlobNameError),
        (400, "InvalidHeaderValue", HttpResponseError, StorageError),
    ],
)
def test_http_status_and_code_map_to_typed_error(
    status: int, code: str | None, cls: type[HttpResponseError], expected: type[StorageError]
) -> None:
    """Each status/code pair maps to exactly the documented crownsafe error type."""
    error = mapped(http_error(status, code, cls=cls))
    assert type(error) is expected
    assert (error.status, error.error_code, error.request_id) == (status, code, "req-123")
    assert (error.backend, error.operation, error.blob_name) == ("azure", "upload_file", "a/b.txt")


def test_error_code_falls_back_to_response_header() -> None:
    """Without a parsed error_code the x-ms-error-code header gives the service's code."""
    error = mapped(http_error(503, headers={"x-ms-error-code": "ServerBusy"}))
    assert isinstance(error, StorageThrottledError)
    assert error.error_code == "ServerBusy"


def test_throttle_carries_retry_after_from_ms_header() -> None:
    error = mapped(http_error(503, "ServerBusy", headers={"x-ms-retry-after-ms": "1500"}))
    assert isinstance(error, StorageThrottledError)
    assert error.retry_after == pytest.approx(1.5)


def test_throttle_carries_retry_after_seconds() -> None:
    error = mapped(http_error(429, headers={"Retry-After": "7"}))
    assert isinstance(error, StorageThrottledError)
    assert error.retry_after == 7.0


def test_plain_503_with_retry_after_is_throttling() -> None:
    """A 503 that asks the client to wait is treated as throttling (and keeps the delay)."""
    error = mapped(http_error(503, "ServiceUnavailable", headers={"Retry-After": "2"}))
    assert isinstance(error, StorageThrottledError)
    assert error.retry_after == 2.0


@pytest.mark.parametrize(
    "exc",
    [
        ServiceRequestError("connection refused"),
        ServiceRequestTimeoutError("connect timed out"),
        ServiceResponseError("read failed"),
        ServiceResponseTimeoutError("read timed out"),
        IncompleteReadError(message="IncompleteRead(10 bytes read, 90 more expected)"),
        HttpResponseError(message="Connection broken"),
        DecodeError(message="body could not be decoded"),
        TimeoutError("timed out"),
        ConnectionResetError("reset by peer"),
    ],
)
def test_transport_failures_are_unavailable(exc: BaseException) -> None:
    """Connection errors, timeouts and broken bodies are StorageUnavailableError (retryable)."""
    error = mapped(exc)
    assert isinstance(error, StorageUnavailableError)
    assert error.status is None
    assert error.backend == "azure"


def test_token_failure_without_status_is_auth_error() -> None:
    """A credential that cannot get a token (no HTTP status) is an auth error with a hint."""
    error = mapped(ClientAuthenticationError("DefaultAzureCredential failed to retrieve a token"))
    assert isinstance(error, StorageAuthError)
    assert "managed identity" in str(error)


def test_not_found_and_exists_without_response_keep_their_meaning() -> None:
    assert isinstance(mapped(ResourceNotFoundError("gone")), BlobNotFoundError)
    assert isinstance(mapped(ResourceExistsError("there")), BlobConflictError)


def test_unknown_exception_is_plain_storage_error() -> None:
    error = mapped(RuntimeError("odd"))
    assert type(error) is StorageError
    assert "RuntimeError" in str(error)


@pytest.mark.parametrize("exc", [ValueError("'Block' is not a valid BlobType"), KeyError("x")])
def test_parse_error_inside_the_sdk_is_a_retryable_unavailable(exc: Exception) -> None:
    """A response cut short makes the SDK's parser raise; that is an outage, not a bug."""
    error = mapped(exc)
    assert type(error) is StorageUnavailableError
    assert "malformed or cut short" in str(error)


def test_storage_error_passes_through_unchanged() -> None:
    original = BlobNotFoundError("gone", backend="azure")
    assert map_azure_error(original, operation="x") is original


def test_message_is_the_services_first_line_only() -> None:
    """The SDK's extra lines (AuthenticationErrorDetail can echo a signature) are dropped."""
    error = mapped(
        http_error(
            403,
            "AuthenticationFailed",
            message="Server failed to authenticate the request.\n"
            "AuthenticationErrorDetail:Signature did not match. sig=abc",
        )
    )
    assert error.reason == "Server failed to authenticate the request."
    assert "sig=" not in str(error)


def test_connection_error_message_hides_sas_query_and_key() -> None:
    """requests puts the URL (with a SAS) into connection errors: the signature must go."""
    exc = ServiceRequestError(
        f"HTTPConnectionPool(host='127.0.0.1', port=1): Max retries exceeded with url: "
        f"{SAS_URL} (AccountKey={KEY})"
    )
    text = str(mapped(exc))
    assert "SECRETSIGNATURE" not in text
    assert "sig=<redacted>" in text
    assert KEY not in text
    assert "Max retries exceeded" in text
