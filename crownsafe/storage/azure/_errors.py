"""Map azure-core / azure-storage-blob exceptions to crownsafe's typed storage errors.

One function, `map_azure_error`, so every operation of the Azure client classifies a
failure the same way (and the resilience layer can decide on retries from the type):

| what the SDK raised                                   | crownsafe error              |
|-------------------------------------------------------|------------------------------|
| 404 (BlobNotFound, ContainerNotFound (+ fix hint))    | BlobNotFoundError            |
| 409 / 412 (BlobAlreadyExists, ConditionNotMet, ...)   | BlobConflictError            |
| 401 / 403, ClientAuthenticationError without status   | StorageAuthError             |
| 429, 503 ServerBusy, 503 with Retry-After             | StorageThrottledError        |
| 501 Not Implemented (the service lacks the operation) | StorageNotSupportedError     |
| other 5xx, 408, timeouts, connection/read errors,     | StorageUnavailableError      |
| a body cut short (IncompleteRead, no status)          |                              |
| 400 InvalidMetadata / InvalidResourceName             | InvalidMetadataError / ...   |
| anything else                                         | StorageError                 |

Messages are built from the service's one-line message only (never the SDK's extra
fields, which can echo a signature) and then redacted: no query string, no key.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)

from crownsafe.errors import (
    BlobConflictError,
    BlobNotFoundError,
    InvalidBlobNameError,
    InvalidMetadataError,
    StorageAuthError,
    StorageError,
    StorageNotSupportedError,
    StorageThrottledError,
    StorageUnavailableError,
)
from crownsafe.redaction import redact
from crownsafe.storage.retry_after import parse_retry_after

__all__ = ["azure_errors", "map_azure_error"]

BACKEND = "azure"

_THROTTLE_CODES = frozenset({"ServerBusy", "SlowDown", "TooManyRequests"})
_NAME_CODES = frozenset({"InvalidResourceName", "InvalidUri", "OutOfRangeInput"})


def _headers(exc: AzureError) -> Mapping[str, str]:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    return headers if headers is not None else {}


def _error_code(exc: HttpResponseError, headers: Mapping[str, str]) -> str | None:
    code = getattr(exc, "error_code", None)
    if code is not None:
        return str(getattr(code, "value", code))
    header_code = headers.get("x-ms-error-code")
    return str(header_code) if header_code else None


def _first_line(exc: BaseException) -> str:
    text = getattr(exc, "reason", None) if isinstance(exc, HttpResponseError) else None
    message = getattr(exc, "message", None) or str(exc)
    line = (message.strip().splitlines() or [""])[0].strip()
    if not line or line.startswith("Operation returned an invalid status"):
        line = str(text or line or type(exc).__name__)
    return redact(line)[:300]


def map_azure_error(
    exc: BaseException,
    *,
    operation: str,
    blob_name: str | None = None,
    container: str | None = None,
) -> StorageError:
    """The typed crownsafe error for an exception raised by the Azure SDK.

    `container` names the client's container in the error for a missing one
    (ContainerNotFound), with the hint to create it or set AZURE_STORAGE_CONTAINER.
    """
    if isinstance(exc, StorageError):
        return exc
    if isinstance(exc, HttpResponseError) and exc.status_code:
        return _map_http(exc, operation, blob_name, container)
    if isinstance(exc, ClientAuthenticationError):
        return StorageAuthError(
            f"could not get a token: {_first_line(exc)}",
            hint="check the managed identity / DefaultAzureCredential setup (az login, "
            "AZURE_CLIENT_ID) or use an account key",
            backend=BACKEND,
            operation=operation,
            blob_name=blob_name,
        )
    if isinstance(exc, ResourceNotFoundError | ResourceExistsError | ResourceModifiedError):
        kind = BlobNotFoundError if isinstance(exc, ResourceNotFoundError) else BlobConflictError
        return kind(_first_line(exc), backend=BACKEND, operation=operation, blob_name=blob_name)
    if isinstance(exc, HttpResponseError):
        return StorageUnavailableError(
            f"the response could not be read: {_first_line(exc)}",
            hint="the connection broke mid-response; the call may be retried",
            backend=BACKEND,
            operation=operation,
            blob_name=blob_name,
        )
    if isinstance(
        exc,
        ServiceRequestError | ServiceResponseError | TimeoutError | ConnectionError,
    ):
        return StorageUnavailableError(
            f"{type(exc).__name__}: {_first_line(exc)}",
            hint="check that the storage endpoint is reachable; the call may be retried",
            backend=BACKEND,
            operation=operation,
            blob_name=blob_name,
        )
    if isinstance(exc, ValueError | KeyError | AttributeError | TypeError):
        return StorageUnavailableError(
            f"the response was malformed or cut short ({type(exc).__name__} in the SDK's parser)",
            hint="the connection broke mid-response; the call may be retried",
            backend=BACKEND,
            operation=operation,
            blob_name=blob_name,
        )
    return StorageError(
        f"{type(exc).__name__}: {_first_line(exc)}",
        backend=BACKEND,
        operation=operation,
        blob_name=blob_name,
    )


def _map_http(
    exc: HttpResponseError, operation: str, blob_name: str | None, container: str | None
) -> StorageError:
    status = int(exc.status_code or 0)
    headers = _headers(exc)
    code = _error_code(exc, headers)
    message = _first_line(exc)
    hint: str | None = None
    if code == "ContainerNotFound":
        message = f"container {container!r} does not exist" if container else message
        hint = (
            "create it (create_container()) or set AZURE_STORAGE_CONTAINER to an existing container"
        )
    retry_after = parse_retry_after(headers)
    kind: type[StorageError]
    if status == 404:
        kind = BlobNotFoundError
    elif status in (409, 412):
        kind = BlobConflictError
    elif status in (401, 403):
        kind = StorageAuthError
    elif status == 429 or (status == 503 and (code in _THROTTLE_CODES or retry_after is not None)):
        return StorageThrottledError(
            message,
            retry_after=retry_after,
            backend=BACKEND,
            operation=operation,
            blob_name=blob_name,
            status=status,
            error_code=code,
            request_id=headers.get("x-ms-request-id"),
        )
    elif status == 501:
        kind = StorageNotSupportedError
        message = f"the service does not implement {operation}: {message}"
    elif status == 408 or status >= 500 or status < 400:
        kind = StorageUnavailableError
    elif code == "InvalidMetadata":
        kind = InvalidMetadataError
    elif code in _NAME_CODES:
        kind = InvalidBlobNameError
    else:
        kind = StorageError
    return kind(
        message,
        backend=BACKEND,
        operation=operation,
        blob_name=blob_name,
        status=status,
        error_code=code,
        request_id=headers.get("x-ms-request-id"),
        hint=hint,
    )


@contextmanager
def azure_errors(operation: str, blob_name: str | None, container: str) -> Iterator[None]:
    """Around SDK calls (sync or awaited): every SDK failure leaves as its typed error.

    Only SDK calls run in these blocks (inputs are validated before), so a ValueError,
    KeyError, AttributeError or TypeError here means the service's response was cut short
    or malformed. The sync and the async client share this guard.
    """
    try:
        yield
    except StorageError:
        raise
    except (
        AzureError,
        ConnectionError,
        TimeoutError,
        ValueError,
        KeyError,
        AttributeError,
        TypeError,
    ) as exc:
        raise map_azure_error(
            exc, operation=operation, blob_name=blob_name, container=container
        ) from None
