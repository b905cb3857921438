"""The storage contract both backends keep: `StorageClient`, `BlobInfo` and typed errors.

Every backend (Azure Blob, S3) raises only the errors below, so callers and the
resilience layer never look at SDK exceptions. Each error carries the HTTP status, the
service's error code and the service request id; messages never contain a secret (keys,
connection strings, SAS or presigned signatures, Authorization headers).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import BinaryIO, Protocol, Self, runtime_checkable

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "BlobConflictError",
    "BlobInfo",
    "BlobNotFoundError",
    "ClosingContextManager",
    "InvalidBlobNameError",
    "InvalidMetadataError",
    "NonRetryableUploadError",
    "SasPermission",
    "StorageAuthError",
    "StorageClient",
    "StorageConfigError",
    "StorageError",
    "StorageThrottledError",
    "StorageUnavailableError",
    "UploadData",
]

DEFAULT_CHUNK_SIZE = 4 * 1024 * 1024

UploadData = bytes | bytearray | memoryview | str | os.PathLike[str] | BinaryIO
"""What `upload_file` accepts: bytes, a filesystem path, or a binary stream.

A `str` is a filesystem path (as in boto3's `upload_file`), never text content: encode
text yourself. Paths and streams are streamed, never read whole into memory.
"""

SasPermission = str
"""SAS permission letters in Azure's order (`r` read, `a` add, `c` create, `w` write,
`d` delete, ...), e.g. "r", "w", "rw", "cw". Grant the least a caller needs. A presigned S3
URL is bound to one method, so the S3 client accepts one of "r", "w" or "d" only."""


@dataclass(frozen=True)
class BlobInfo:
    """Properties of one stored object, the same shape for both backends."""

    name: str
    size: int
    content_type: str | None = None
    etag: str | None = None
    last_modified: datetime | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    content_md5: bytes | None = None


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
        super().__init__(self._render())

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


class InvalidBlobNameError(StorageError, ValueError):
    """A blob, container or bucket name breaks the naming rules; raised before any I/O."""


class InvalidMetadataError(StorageError, ValueError):
    """A metadata key or value breaks the one rule both backends accept; raised before I/O."""


class StorageConfigError(StorageError):
    """The configuration is missing or inconsistent; says which variable to set."""


class NonRetryableUploadError(StorageError):
    """An upload from a non-seekable stream failed after sending part of its body.

    Retrying would send a partial object, so the caller has to supply the data again.
    """

    default_hint = "pass bytes, a file path or a seekable stream so the upload can be retried"


class ClosingContextManager:
    """`with client:` closes the client on exit; subclasses define `close()`."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


@runtime_checkable
class StorageClient(Protocol):
    """The seed's storage API, with S3-compatible signatures, for every backend.

    `delete_blob` raises `BlobNotFoundError` for a missing blob on both backends unless
    `missing_ok=True` (S3's DELETE is idempotent, so the S3 client checks with a HEAD).
    """

    backend: str
    container_name: str

    def upload_file(
        self,
        blob_name: str,
        data: UploadData,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        overwrite: bool = True,
    ) -> str:
        """Store `data` under `blob_name`; return the blob's plain URL."""
        ...

    def download_blob(self, blob_name: str) -> bytes: ...

    def download_to(self, blob_name: str, file: BinaryIO | os.PathLike[str] | str) -> int:
        """Stream the blob into a file or path; return the number of bytes written."""
        ...

    def iter_blob_chunks(
        self, blob_name: str, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> Iterator[bytes]:
        """Stream the blob's content in chunks of at most `chunk_size` bytes."""
        ...

    def generate_sas_url(
        self, blob_name: str, expiry_hours: float = 24, permission: SasPermission = "r"
    ) -> str: ...

    def blob_exists(self, blob_name: str) -> bool: ...

    def head_object(self, blob_name: str) -> BlobInfo: ...

    def delete_blob(self, blob_name: str, missing_ok: bool = False) -> bool:
        """Delete the blob; return True if it existed (False only with missing_ok)."""
        ...

    def list_blobs(
        self, prefix: str | None = None, max_results: int | None = None
    ) -> list[BlobInfo]: ...

    def iter_blobs(
        self, prefix: str | None = None, page_size: int | None = None
    ) -> Iterator[BlobInfo]:
        """Iterate over all blobs under `prefix`, following the service's pagination."""
        ...

    def get_blob_url(self, blob_name: str) -> str: ...

    def create_container(self, exist_ok: bool = True) -> None: ...

    def delete_container(self, missing_ok: bool = True) -> None: ...

    def close(self) -> None: ...
