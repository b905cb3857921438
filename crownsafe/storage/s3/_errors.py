"""Map botocore/boto3 exceptions and S3 error responses to crownsafe's typed errors.

Pure classification (`classify_s3_error`, `error_from_response`) plus `map_s3_error` for
exceptions; messages pass through the one redactor, so no signature or key survives.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    CredentialRetrievalError,
    HTTPClientError,
    IncompleteReadError,
    InvalidRegionError,
    InvalidS3AddressingStyleError,
    NoAuthTokenError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    TokenRetrievalError,
    UnknownEndpointError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError
from botocore.parsers import ResponseParserError

from crownsafe.errors import (
    BlobConflictError,
    BlobNotFoundError,
    InvalidBlobNameError,
    InvalidMetadataError,
    StorageAuthError,
    StorageConfigError,
    StorageError,
    StorageNotSupportedError,
    StorageThrottledError,
    StorageUnavailableError,
)
from crownsafe.redaction import redact
from crownsafe.storage.retry_after import parse_retry_after

__all__ = [
    "SDK_ERRORS",
    "classify_s3_error",
    "error_from_response",
    "map_s3_error",
    "raised_while_parsing",
    "s3_errors",
]

if TYPE_CHECKING:
    pass


SDK_ERRORS = (ClientError, BotoCoreError, ConnectionError, TimeoutError)


_CREDENTIAL_ERRORS = (
    NoCredentialsError,
    PartialCredentialsError,
    CredentialRetrievalError,
    NoAuthTokenError,
    TokenRetrievalError,
)


_TRANSPORT_ERRORS = (
    BotoConnectionError,
    HTTPClientError,
    IncompleteReadError,
    ConnectionError,
    TimeoutError,
)


_CONFIG_ERRORS = (
    NoRegionError,
    InvalidRegionError,
    UnknownEndpointError,
    InvalidS3AddressingStyleError,
    ProfileNotFound,
)


def map_s3_error(
    exc: BaseException,
    *,
    operation: str,
    blob_name: str | None = None,
    bucket: str | None = None,
    secrets: tuple[str | None, ...] = (),
) -> StorageError:
    """The typed crownsafe error for a botocore/boto3 exception (backend "s3")."""
    if isinstance(exc, StorageError):
        return exc
    common: dict[str, Any] = {"backend": "s3", "operation": operation, "blob_name": blob_name}
    if isinstance(exc, ClientError):
        return error_from_response(
            exc.response, operation=operation, blob_name=blob_name, bucket=bucket, secrets=secrets
        )
    text = redact(str(exc), *secrets)
    if isinstance(exc, ResponseParserError | ValueError | KeyError):
        return StorageUnavailableError(
            f"S3's response was truncated or could not be parsed: {type(exc).__name__}: {text}",
            hint="a connection cut mid-response or a faulty proxy; the resilience layer "
            "retries this",
            **common,
        )
    if isinstance(exc, _CREDENTIAL_ERRORS):
        return StorageAuthError(
            f"no usable AWS credentials: {text}",
            hint="set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or configure a profile/role)",
            **common,
        )
    if isinstance(exc, _TRANSPORT_ERRORS):
        return StorageUnavailableError(
            f"S3 could not be reached or the connection failed: {text}",
            hint="check S3_ENDPOINT_URL and the network; the resilience layer retries this",
            **common,
        )
    if isinstance(exc, _CONFIG_ERRORS):
        return StorageConfigError(
            f"S3 client configuration is invalid: {text}",
            hint="check AWS_REGION, S3_ENDPOINT_URL and AWS_PROFILE",
            **common,
        )
    return StorageError(f"S3 request failed: {type(exc).__name__}: {text}", **common)


_PARSERS = (os.path.join("botocore", "parsers.py"), os.path.join("aiobotocore", "parsers.py"))


@contextmanager
def s3_errors(
    operation: str,
    blob_name: str | None,
    bucket: str,
    secrets: tuple[str | None, ...],
    transport_errors: tuple[type[BaseException], ...] = (),
) -> Iterator[None]:
    """Around SDK calls (sync or awaited): every SDK failure leaves as its typed error.

    A ValueError counts only when botocore's (or aiobotocore's) response parser raised it.
    `transport_errors` are more exception types that mean the connection failed (the
    async client's aiohttp errors while a body is read): they map as `ConnectionError`.
    """
    caught: tuple[type[BaseException], ...] = (
        *SDK_ERRORS,
        ResponseParserError,
        KeyError,
        ValueError,
        *transport_errors,
    )
    try:
        yield
    except caught as exc:
        if isinstance(exc, ValueError) and not raised_while_parsing(exc):
            raise
        if transport_errors and isinstance(exc, transport_errors):
            failure: BaseException = ConnectionError(f"{type(exc).__name__}: {exc}")
        else:
            failure = exc
        raise map_s3_error(
            failure, operation=operation, blob_name=blob_name, bucket=bucket, secrets=secrets
        ) from exc


def raised_while_parsing(exc: BaseException) -> bool:
    """Whether botocore's response parser raised `exc` (e.g. a truncated Date header)."""
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(_PARSERS):
            return True
        tb = tb.tb_next
    return False


_NOT_FOUND = {"NoSuchKey", "NotFound", "NoSuchBucket", "NoSuchUpload", "NoSuchVersion"}


_CONFLICT = {
    "PreconditionFailed",
    "ConditionalRequestConflict",
    "BucketAlreadyExists",
    "BucketAlreadyOwnedByYou",
    "BucketNotEmpty",
    "OperationAborted",
}


_AUTH = {
    "AccessDenied",
    "AllAccessDisabled",
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId",
    "InvalidToken",
    "ExpiredToken",
    "TokenRefreshRequired",
    "AccountProblem",
    "InvalidSecurity",
    "RequestTimeTooSkewed",
    "Unauthorized",
}


_THROTTLED = {
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "TooManyRequests",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "ServerBusy",
}


_UNAVAILABLE = {"InternalError", "ServiceUnavailable", "RequestTimeout", "RequestTimeoutException"}


_CONFIG = {
    "PermanentRedirect",
    "AuthorizationHeaderMalformed",
    "IllegalLocationConstraintException",
    "InvalidLocationConstraint",
}


_BAD_NAME = {"KeyTooLongError", "InvalidBucketName", "InvalidObjectName"}


_BAD_METADATA = {"MetadataTooLarge", "InvalidMetadata"}


_NOT_SUPPORTED = {"NotImplemented", "MethodNotAllowed"}


def classify_s3_error(
    status: int | None, code: str | None, *, has_retry_after: bool = False
) -> type[StorageError]:
    """The typed error for an S3 error response (service code first, then HTTP status).

    501 Not Implemented and 405 MethodNotAllowed say the service lacks the operation
    (S3-compatible services without batch delete or version listing): permanent.
    A 503 is throttling when the code says so (SlowDown), when a Retry-After came with
    it, or when it has no body to tell (HEAD): S3 answers 503 to ask for a lower request
    rate. A 503 whose body says ServiceUnavailable, without Retry-After, is an outage.
    """
    code = code or ""
    bodyless = not code or code.isdigit()
    if status in (501, 405) or code in _NOT_SUPPORTED:
        return StorageNotSupportedError
    if status in (429, 503) and has_retry_after:
        return StorageThrottledError
    if code in _NOT_FOUND:
        return BlobNotFoundError
    if code in _CONFLICT:
        return BlobConflictError
    if code in _AUTH:
        return StorageAuthError
    if code in _THROTTLED:
        return StorageThrottledError
    if code in _UNAVAILABLE:
        return StorageUnavailableError
    if code in _CONFIG:
        return StorageConfigError
    if code in _BAD_NAME:
        return InvalidBlobNameError
    if code in _BAD_METADATA:
        return InvalidMetadataError
    if status == 404:
        return BlobNotFoundError
    if status in (409, 412):
        return BlobConflictError
    if status in (401, 403):
        return StorageAuthError
    if status == 429 or (status == 503 and (has_retry_after or bodyless)):
        return StorageThrottledError
    if status == 408 or (status is not None and status >= 500):
        return StorageUnavailableError
    if status == 301:
        return StorageConfigError
    return StorageError


def error_from_response(
    response: Mapping[str, Any],
    *,
    operation: str,
    blob_name: str | None = None,
    bucket: str | None = None,
    secrets: tuple[str | None, ...] = (),
) -> StorageError:
    """The typed error for a botocore error response (`ClientError.response`).

    Carries the HTTP status, S3's error code (None for body-less HEAD answers), the
    request id and, for throttling, the Retry-After delay; never a secret.
    """
    error = response.get("Error") or {}
    meta = response.get("ResponseMetadata") or {}
    headers = {str(k).lower(): v for k, v in (meta.get("HTTPHeaders") or {}).items()}
    status = meta.get("HTTPStatusCode")
    code = str(error.get("Code") or "") or None
    retry_after = parse_retry_after(headers)
    cls = classify_s3_error(status, code, has_retry_after=retry_after is not None)
    reason = redact(str(error.get("Message") or "") or f"HTTP {status}", *secrets)
    hint: str | None = None
    if code == "NoSuchBucket":
        reason = f"bucket {bucket!r} does not exist"
        hint = "create it (create_container()) or set S3_BUCKET to an existing bucket"
    elif cls is BlobNotFoundError and (code is None or code.isdigit()):
        reason = f"object not found in bucket {bucket!r} (or the bucket does not exist)"
    elif cls is BlobNotFoundError:
        reason = f"object not found in bucket {bucket!r}: {reason}"
    elif cls is BlobConflictError and operation == "upload_file":
        reason = f"the object already exists ({reason})"
        hint = "pass overwrite=True to replace it"
    elif cls is StorageAuthError:
        hint = "check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, the bucket policy and AWS_REGION"
    elif cls is StorageConfigError:
        hint = "set AWS_REGION to the bucket's region and check S3_ENDPOINT_URL"
    elif cls is StorageUnavailableError:
        hint = "the service failed or timed out; the resilience layer retries this"
    elif cls is StorageNotSupportedError:
        reason = f"the S3 service does not implement {operation}: {reason}"
        hint = (
            "this S3-compatible service lacks the operation (not retried); use a service "
            "that implements it"
        )
    elif cls is StorageThrottledError:
        reason = f"S3 is throttling requests: {reason}"
    if meta.get("HostId"):
        reason += f" [host_id={redact(str(meta['HostId']), *secrets)}]"
    fields: dict[str, Any] = {
        "backend": "s3",
        "operation": operation,
        "blob_name": blob_name,
        "status": status,
        "error_code": None if code is None or code.isdigit() else code,
        "request_id": meta.get("RequestId")
        or headers.get("x-amz-request-id")
        or headers.get("x-amzn-requestid"),
    }
    if hint is not None:
        fields["hint"] = hint
    if cls is StorageThrottledError:
        return StorageThrottledError(reason, retry_after=retry_after, **fields)
    return cls(reason, **fields)
