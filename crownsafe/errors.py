"""The typed errors every part of crownsafe raises: storage, configuration, resilience.

Both storage backends (Azure Blob, S3) raise only these, so callers and the resilience
layer never look at SDK exceptions. Each error carries the HTTP status, the service's error
code and the service request id; messages never contain a secret (keys, connection strings,
SAS or presigned signatures, Authorization headers): see `crownsafe.redaction`.

This module imports nothing from crownsafe, so configuration, resilience and storage can
all depend on it without depending on each other.
"""

from __future__ import annotations

__all__ = [
    "ApiConfigError",
    "BlobConflictError",
    "BlobNotFoundError",
    "ConfigError",
    "InvalidBlobNameError",
    "InvalidMetadataError",
    "InvalidSasRequestError",
    "NonRetryableUploadError",
    "StorageAuthError",
    "StorageConfigError",
    "StorageError",
    "StorageGaveUpError",
    "StorageIntegrityError",
    "StorageNotSupportedError",
    "StorageThrottledError",
    "StorageUnavailableError",
    "StorageWritesDisabledError",
    "UploadLengthMismatchError",
    "WorkerConfigError",
]


class ConfigError(Exception):
    """A setting is missing, malformed or inconsistent. Says which variable, and how to fix
    it (`hint`). Each part of crownsafe raises its own kind (below, `StorageConfigError`,
    `crownsafe.db.session.DatabaseConfigError`), so a caller that only needs to know "the
    configuration is wrong" catches this one."""

    default_hint = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.reason = message
        self.hint = hint if hint is not None else self.default_hint
        super().__init__(f"{message}. Fix: {self.hint}" if self.hint else message)


class ApiConfigError(ConfigError):
    """A setting of the API (JWT_SECRET, CORS_ORIGINS, TRUSTED_HOSTS, upload and share
    limits) is missing or wrong."""


class WorkerConfigError(ConfigError):
    """A setting of the Celery worker and its queue (the broker, CELERY_*) is missing or
    wrong."""


class StorageError(Exception):
    """Base of every storage error. Carries what a failure report needs, nothing secret."""

    default_hint = ""

    def __init__(
        self,
        message: str,
        *,
        backend: str | None = None,
        operation: str | None = None,
        blob_name: str | None = None,
        status: int | None = None,
        error_code: str | None = None,
        request_id: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.reason = message
        self.backend = backend
        self.operation = operation
        self.blob_name = blob_name
        self.status = status
        self.error_code = error_code
        self.request_id = request_id
        self.hint = hint if hint is not None else self.default_hint
        # Exception's, not the next class's: StorageConfigError is also a ConfigError,
        # whose __init__ would render the message a second time.
        Exception.__init__(self, self._render())

    def _render(self) -> str:
        where = " ".join(
            part
            for part in (
                f"[{self.backend}]" if self.backend else "",
                self.operation or "",
                repr(self.blob_name) if self.blob_name is not None else "",
            )
            if part
        )
        details = ", ".join(
            f"{key}={value}"
            for key, value in (
                ("status", self.status),
                ("code", self.error_code),
                ("request_id", self.request_id),
            )
            if value is not None
        )
        text = f"{where}: {self.reason}" if where else self.reason
        if details:
            text += f" ({details})"
        if self.hint:
            text += f". Fix: {self.hint}"
        return text

    def log_fields(self) -> dict[str, object]:
        """Structured fields for a log record (no secrets by construction)."""
        return {
            "backend": self.backend,
            "operation": self.operation,
            "blob_name": self.blob_name,
            "status": self.status,
            "error_code": self.error_code,
            "service_request_id": self.request_id,
            "error_type": type(self).__name__,
        }


class BlobNotFoundError(StorageError):
    """The blob (or the container/bucket) does not exist: 404 on both services."""


class BlobConflictError(StorageError):
    """A write conflicted: Azure 409 BlobAlreadyExists, S3 412 PreconditionFailed."""


class StorageAuthError(StorageError):
    """Credentials or SAS/presigned URL refused: 401/403."""

    default_hint = "check the credentials, the SAS permissions and its expiry"


class StorageThrottledError(StorageError):
    """The service asked us to slow down: 429, 503 ServerBusy or SlowDown."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class StorageUnavailableError(StorageError):
    """The service failed or could not be reached: 5xx, 408, timeouts, connection errors."""


class StorageNotSupportedError(StorageError):
    """The service lacks the operation: 501 Not Implemented (S3 also 405 MethodNotAllowed).

    Permanent: never retried, never counted by a circuit breaker (the service answered; it
    will answer the same way again). Some S3-compatible services lack batch delete,
    version listing or multipart listing; crownsafe falls back where it can.
    """

    default_hint = (
        "the service does not implement this operation; use a service that does, or an "
        "operation it offers"
    )


class StorageIntegrityError(StorageError):
    """The service stored other bytes than we sent (size or checksum differ), or we could
    not confirm what it stored.

    Raised after an upload whose check failed; the object is removed (new objects) or
    never committed (overwrites), so no wrong bytes are left looking valid. Not retried:
    the service will store the same wrong bytes again. On S3-compatible services this is
    usually the aws-chunked encoding the service does not understand: set
    S3_REQUEST_CHECKSUMS=when_required.
    """


class StorageGaveUpError(StorageUnavailableError):
    """The resilience layer stopped retrying: the attempts or the deadline ran out.

    Says which (`stopped_by`: "attempts" or "deadline"), the attempts made, the deadline,
    the time spent, and the last failure (`last_error`, also the `__cause__`), whose
    status, service error code, request id and Retry-After it carries. A subclass of
    `StorageUnavailableError`, so callers that treat an outage as 503 keep doing so.
    """

    def __init__(
        self,
        message: str,
        *,
        last_error: BaseException,
        attempts: int,
        max_attempts: int,
        stopped_by: str,
        deadline: float | None,
        elapsed: float,
        **kwargs: object,
    ) -> None:
        self.last_error = last_error
        self.attempts = attempts
        self.max_attempts = max_attempts
        self.stopped_by = stopped_by
        self.deadline = deadline
        self.elapsed = elapsed
        retry_after = getattr(last_error, "retry_after", None)
        self.retry_after: float | None = (
            float(retry_after) if isinstance(retry_after, int | float) else None
        )
        super().__init__(message, **kwargs)  # type: ignore[arg-type]

    def log_fields(self) -> dict[str, object]:
        return {
            **super().log_fields(),
            "attempts": self.attempts,
            "stopped_by": self.stopped_by,
            "deadline_s": self.deadline,
            "last_error_type": type(self.last_error).__name__,
        }


class InvalidBlobNameError(StorageError, ValueError):
    """A blob, container or bucket name breaks the naming rules; raised before any I/O."""


class InvalidMetadataError(StorageError, ValueError):
    """A metadata key or value breaks the one rule both backends accept; raised before I/O."""


class InvalidSasRequestError(StorageError, ValueError):
    """A SAS / presigned URL request the caller got wrong (permission letters, expiry);
    raised before any I/O. A caller's mistake: never retried, never counted by a breaker."""


class StorageConfigError(StorageError, ConfigError):
    """The storage configuration (STORAGE_*, AZURE_*, S3_*, AWS_*) is missing or
    inconsistent; says which variable to set. A `StorageError` (it carries the backend)
    and a `ConfigError`."""


class StorageWritesDisabledError(StorageConfigError):
    """A write to Azure while AZURE_BLOB_ENABLED is false; raised before any I/O."""

    default_hint = (
        "set AZURE_BLOB_ENABLED=true to store on Azure, or STORAGE_BACKEND=s3 to keep using S3"
    )


class UploadLengthMismatchError(StorageError, ValueError):
    """`upload_file(..., length=n)` got a stream that ended before `n` bytes, or had more.

    Raised before anything is committed: the object does not exist afterwards (S3's PUT
    body is cut short, Azure's staged block is never committed). Not retryable: the data
    itself is wrong (e.g. an HTTP client went away mid-body).
    """

    default_hint = "pass the stream's exact length, or no length"


class NonRetryableUploadError(StorageError):
    """An upload from a non-seekable stream failed after sending part of its body.

    Retrying would send a partial object, so the caller has to supply the data again.
    """

    default_hint = "pass bytes, a file path or a seekable stream so the upload can be retried"
