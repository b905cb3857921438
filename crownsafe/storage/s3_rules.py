"""S3 rules without I/O: presign permissions and expiry, multipart planning, URLs, errors.

Kept apart from `crownsafe.storage.s3` (the only module importing boto3/botocore) so the
rules can be unit-tested without an SDK or a server.
"""

from __future__ import annotations

import email.utils
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from crownsafe.storage.base import (
    BlobConflictError,
    BlobNotFoundError,
    InvalidBlobNameError,
    InvalidMetadataError,
    StorageAuthError,
    StorageConfigError,
    StorageError,
    StorageThrottledError,
    StorageUnavailableError,
)

__all__ = [
    "MAX_PARTS",
    "MAX_PART_SIZE",
    "MAX_PRESIGN_SECONDS",
    "MIN_PART_SIZE",
    "classify_s3_error",
    "error_from_response",
    "object_url",
    "parse_retry_after",
    "plan_part_size",
    "presign_expiry_seconds",
    "presign_method",
    "redact",
]

MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PART_SIZE = 5 * 1024 * 1024 * 1024
MAX_PARTS = 10_000
MAX_OBJECT_SIZE = 5 * 1024**4
MAX_PRESIGN_SECONDS = 7 * 24 * 3600
"""SigV4 presigned URLs live at most 7 days (X-Amz-Expires <= 604800)."""

_PRESIGN_METHODS = {"r": "get_object", "w": "put_object", "d": "delete_object"}


def presign_method(permission: str) -> str:
    """The one S3 client method a presigned URL for `permission` may call.

    A presigned URL signs exactly one HTTP method, so S3 cannot express Azure's combined
    SAS permissions ("rw", "rwd", ...) nor "create only" ("c": a presigned PUT may also
    overwrite). Those raise ValueError instead of silently granting more or less.
    """
    method = _PRESIGN_METHODS.get(permission)
    if method is not None:
        return method
    if permission == "c":
        raise ValueError(
            "permission 'c' (create only) cannot be expressed on S3: a presigned PUT can also "
            "overwrite an existing object. Use permission='w' and accept overwrites"
        )
    raise ValueError(
        f"permission {permission!r} cannot be expressed as one S3 presigned URL: a presigned "
        "URL is bound to one HTTP method. Ask for one URL per permission: 'r' (GET), "
        "'w' (PUT) or 'd' (DELETE)"
    )


def presign_expiry_seconds(expiry_hours: float) -> int:
    """`expiry_hours` as whole seconds, within SigV4's limit of 7 days (604800 s)."""
    if not math.isfinite(expiry_hours) or expiry_hours <= 0:
        raise ValueError(f"expiry_hours must be a positive number of hours, got {expiry_hours!r}")
    seconds = max(1, round(expiry_hours * 3600))
    if seconds > MAX_PRESIGN_SECONDS:
        raise ValueError(
            f"expiry_hours={expiry_hours:g} is longer than the 168 hours (7 days) a SigV4 "
            "presigned URL can live; ask for 168 hours or less"
        )
    return seconds


def plan_part_size(total_size: int | None, part_size: int) -> int:
    """The part size to use so an object of `total_size` bytes fits in 10,000 parts.

    `part_size` is kept when it is enough (and always for unknown sizes, which then
    may hold up to 10,000 x part_size bytes); otherwise it grows to the next MiB.
    """
    if not MIN_PART_SIZE <= part_size <= MAX_PART_SIZE:
        raise ValueError(f"part_size must be between 5 MiB and 5 GiB, got {part_size} bytes")
    if total_size is None or total_size <= part_size * MAX_PARTS:
        return part_size
    if total_size > MAX_OBJECT_SIZE:
        raise ValueError(f"{total_size} bytes is more than S3's 5 TiB object limit")
    mib = 1024 * 1024
    return math.ceil(math.ceil(total_size / MAX_PARTS) / mib) * mib


def object_url(bucket: str, key: str, *, region: str, endpoint_url: str | None) -> str:
    """Plain (unsigned) URL of an object: path-style for a custom endpoint, else virtual-hosted."""
    quoted = quote(key, safe="/~")
    if endpoint_url:
        return f"{endpoint_url.rstrip('/')}/{bucket}/{quoted}"
    return f"https://{bucket}.s3.{region}.amazonaws.com/{quoted}"


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or an HTTP date), or None."""
    if not value:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


_SECRET_PATTERNS = [
    re.compile(
        r"(?i)((?:X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|Signature|"
        r"AWSAccessKeyId|Credential)=)[^&\s\"',]+"
    ),
    re.compile(r"(?i)(Authorization[\"']?\s*[:=]\s*[\"']?)[^\"'\r\n}]+"),
]


def redact(text: str, *secrets: str | None) -> str:
    """`text` without presigned signatures, credentials, Authorization values or `secrets`."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(r"\1***", text)
    return text


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


def classify_s3_error(
    status: int | None, code: str | None, *, has_retry_after: bool = False
) -> type[StorageError]:
    """The typed error for an S3 error response (service code first, then HTTP status).

    A 503 is throttling when the code says so (SlowDown), when a Retry-After came with
    it, or when it has no body to tell (HEAD): S3 answers 503 to ask for a lower request
    rate. A 503 whose body says ServiceUnavailable, without Retry-After, is an outage.
    """
    code = code or ""
    bodyless = not code or code.isdigit()
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
    retry_after = parse_retry_after(headers.get("retry-after"))
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
