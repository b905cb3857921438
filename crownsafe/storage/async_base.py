"""The async storage contract: `AsyncStorageClient`, the `StorageClient` promises awaited.

Every method keeps the sync protocol's promise (`crownsafe.storage.base`), with the same
typed errors, the same name rules and the same SAS / presigned URLs. The differences are
only those of an event loop:

- `upload_file` also takes an async iterable of bytes (e.g. a request body being
  received). It is read in blocks of a bounded size while earlier blocks are sent, so
  memory stays bounded (block or part size x concurrency); with `length` the source must
  hold exactly that many bytes, else `UploadLengthMismatchError` and nothing is stored.
- `iter_blob_chunks` is awaited (the GET is sent then, so a missing blob raises there)
  and returns an async iterator; `iter_blobs` is an async iterator.
- `close` is awaited; `async with client:` closes it. A client belongs to the event loop
  that first used it (its connection pool does).
- Paths, sync streams and bytes are accepted as in the sync protocol; reading a local
  file or a sync stream happens on the event loop (local, short reads).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from types import TracebackType
from typing import BinaryIO, Protocol, Self, runtime_checkable

from crownsafe.storage.base import DEFAULT_CHUNK_SIZE, BlobInfo, SasPermission, UploadData

__all__ = ["AsyncClosingContextManager", "AsyncStorageClient", "AsyncUploadData"]

AsyncUploadData = UploadData | AsyncIterable[bytes]
"""What the async `upload_file` accepts: `UploadData` or an async iterable of bytes."""


class AsyncClosingContextManager:
    """`async with client:` awaits `close()` on exit; subclasses define `close()`."""

    async def close(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


@runtime_checkable
class AsyncStorageClient(Protocol):
    """`StorageClient` for asyncio code (see the module docstring for what differs)."""

    backend: str
    container_name: str

    async def upload_file(
        self,
        blob_name: str,
        data: AsyncUploadData,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        overwrite: bool = True,
        *,
        length: int | None = None,
    ) -> str: ...

    async def download_blob(self, blob_name: str) -> bytes: ...

    async def download_to(self, blob_name: str, file: BinaryIO | os.PathLike[str] | str) -> int: ...

    async def iter_blob_chunks(
        self, blob_name: str, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> AsyncIterator[bytes]: ...

    async def generate_sas_url(
        self, blob_name: str, expiry_hours: float = 24, permission: SasPermission = "r"
    ) -> str: ...

    async def blob_exists(self, blob_name: str) -> bool: ...

    async def head_object(self, blob_name: str) -> BlobInfo: ...

    async def delete_blob(self, blob_name: str, missing_ok: bool = False) -> bool: ...

    async def list_blobs(
        self, prefix: str | None = None, max_results: int | None = None
    ) -> list[BlobInfo]: ...

    def iter_blobs(
        self, prefix: str | None = None, page_size: int | None = None
    ) -> AsyncIterator[BlobInfo]: ...

    def get_blob_url(self, blob_name: str) -> str: ...

    async def create_container(self, exist_ok: bool = True) -> None: ...

    async def delete_container(self, missing_ok: bool = True) -> None: ...

    async def close(self) -> None: ...
