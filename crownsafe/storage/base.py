"""The storage contract both backends keep: `StorageClient` and `BlobInfo`.

Every backend (Azure Blob, S3) raises only the typed errors of `crownsafe.errors`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import BinaryIO, Protocol, Self, runtime_checkable

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "BlobInfo",
    "ClosingContextManager",
    "SasPermission",
    "StorageClient",
    "UploadData",
    "normalize_etag",
    "utc_timestamp",
]

DEFAULT_CHUNK_SIZE = 4 * 1024 * 1024

UploadData = bytes | bytearray | memoryview | str | os.PathLike[str] | BinaryIO
"""What `upload_file` accepts: bytes, a filesystem path, or a binary stream.

A `str` is a filesystem path (as in the AWS SDK's `upload_file`), never text content: encode
text yourself. Paths and streams are streamed, never read whole into memory.
"""

SasPermission = str
"""SAS permission letters in Azure's order (`r` read, `a` add, `c` create, `w` write,
`d` delete, ...), e.g. "r", "w", "rw", "cw". Grant the least a caller needs. A presigned S3
URL is bound to one method, so the S3 client accepts one of "r", "w" or "d" only."""


@dataclass(frozen=True)
class BlobInfo:
    """Properties of one stored object, the same shape for both backends.

    `list_blobs`, `iter_blobs` and `head_object` of one backend give the same values for:

    - `name`, `size`;
    - `etag`: always in its quoted HTTP form (`"0x8D..."` on Azure, `"<md5>"` or
      `"<md5>-<parts>"` on S3), from a listing as from a HEAD; opaque, compare it only
      with ETags of the same backend (`normalize_etag`);
    - `last_modified`: timezone-aware UTC (`datetime.UTC`), whole seconds (HTTP dates
      carry no more; S3 listings would add milliseconds), see `utc_timestamp`.

    `content_type`, `metadata` and `content_md5` come from `head_object` on both backends
    and from Azure's listings too. S3's ListObjectsV2 carries none of them, so an S3
    listing gives `content_type=None`, `metadata={}` and `content_md5=None` (which mean
    "not listed", not "absent"): call `head_object` when you need them. `content_md5` is
    set on Azure for single-shot uploads only; S3 never reports one.
    """

    name: str
    size: int
    content_type: str | None = None
    etag: str | None = None
    last_modified: datetime | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    content_md5: bytes | None = None


def normalize_etag(etag: str | None) -> str | None:
    """The ETag in its quoted HTTP form: `0x8D1` -> `"0x8D1"`; quoted and weak (`W/"..."`)
    ETags come back unchanged, None and "" stay None."""
    if not etag:
        return None
    if etag.startswith('"') or etag.startswith('W/"'):
        return etag
    return f'"{etag}"'


def utc_timestamp(value: datetime | None) -> datetime | None:
    """`value` as an aware UTC datetime (`datetime.UTC`) in whole seconds; a naive one is
    taken to be UTC already."""
    if value is None:
        return None
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return aware.replace(microsecond=0)


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
    """The original backend's storage API, with S3-compatible signatures, for every backend.

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
        *,
        length: int | None = None,
    ) -> str:
        """Store `data` under `blob_name`; return the blob's plain URL.

        `length` (optional) is the number of bytes `data` holds. With a non-seekable stream
        it lets the backend send the body in one streamed request while it is read (S3: one
        PutObject; Azure: one Put Block + Put Block List) with bounded memory; a stream
        that ends before `length` bytes or has more raises `UploadLengthMismatchError` and
        nothing is stored. For bytes, paths and seekable streams it is only checked.
        """
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
