"""`WritesDisabledStorageClient`: the Azure client while AZURE_BLOB_ENABLED is false.

The migration's feature flag (AZURE_BLOB_ENABLED) says whether crownsafe stores on Azure.
With it off, `create_storage_client` still builds the Azure client (reads, listings, URLs
and read-only SAS keep working) but wraps it in this class: every write (`upload_file`,
`delete_blob`, `create_container`, `delete_container`, a SAS that grants anything but read)
raises `StorageWritesDisabledError` before any I/O. Code that only wants to know beforehand
calls `crownsafe.config.storage_writes_enabled(settings)`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO, NoReturn

from crownsafe.errors import StorageWritesDisabledError
from crownsafe.storage.async_base import (
    AsyncClosingContextManager,
    AsyncStorageClient,
    AsyncUploadData,
)
from crownsafe.storage.base import (
    DEFAULT_CHUNK_SIZE,
    BlobInfo,
    ClosingContextManager,
    SasPermission,
    StorageClient,
    UploadData,
)

__all__ = ["AsyncWritesDisabledStorageClient", "WritesDisabledStorageClient", "refuse"]


def refuse(backend: str, operation: str, blob_name: str | None = None) -> NoReturn:
    raise StorageWritesDisabledError(
        f"writes to Azure Blob Storage are off (AZURE_BLOB_ENABLED=false): {operation} "
        "was refused; reads, listings, URLs and read-only SAS still work",
        backend=backend,
        operation=operation,
        blob_name=blob_name,
    )


def _grants_more_than_read(permission: object) -> bool:
    return isinstance(permission, str) and bool(set(permission) - {"r"})


class WritesDisabledStorageClient(ClosingContextManager):
    """A `StorageClient` that passes reads to `inner` and refuses every write."""

    def __init__(self, inner: StorageClient) -> None:
        self.inner = inner
        self.backend = inner.backend
        self.container_name = inner.container_name

    def __repr__(self) -> str:
        return f"WritesDisabledStorageClient({self.inner!r})"

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)  # stats(), breaker, ... of a resilient inner client

    def _refuse(self, operation: str, blob_name: str | None = None) -> NoReturn:
        refuse(self.backend, operation, blob_name)

    # writes: refused

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
        self._refuse("upload_file", blob_name)

    def delete_blob(self, blob_name: str, missing_ok: bool = False) -> bool:
        self._refuse("delete_blob", blob_name)

    def create_container(self, exist_ok: bool = True) -> None:
        self._refuse("create_container")

    def delete_container(self, missing_ok: bool = True) -> None:
        self._refuse("delete_container")

    def generate_sas_url(
        self, blob_name: str, expiry_hours: float = 24, permission: SasPermission = "r"
    ) -> str:
        if _grants_more_than_read(permission):
            self._refuse(f"generate_sas_url(permission={permission!r})", blob_name)
        return self.inner.generate_sas_url(blob_name, expiry_hours, permission)

    # reads: passed through

    def download_blob(self, blob_name: str) -> bytes:
        return self.inner.download_blob(blob_name)

    def download_to(self, blob_name: str, file: BinaryIO | os.PathLike[str] | str) -> int:
        return self.inner.download_to(blob_name, file)

    def iter_blob_chunks(
        self, blob_name: str, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> Iterator[bytes]:
        return self.inner.iter_blob_chunks(blob_name, chunk_size)

    def blob_exists(self, blob_name: str) -> bool:
        return self.inner.blob_exists(blob_name)

    def head_object(self, blob_name: str) -> BlobInfo:
        return self.inner.head_object(blob_name)

    def list_blobs(
        self, prefix: str | None = None, max_results: int | None = None
    ) -> list[BlobInfo]:
        return self.inner.list_blobs(prefix, max_results)

    def iter_blobs(
        self, prefix: str | None = None, page_size: int | None = None
    ) -> Iterator[BlobInfo]:
        return self.inner.iter_blobs(prefix, page_size)

    def get_blob_url(self, blob_name: str) -> str:
        return self.inner.get_blob_url(blob_name)

    def close(self) -> None:
        self.inner.close()


class AsyncWritesDisabledStorageClient(AsyncClosingContextManager):
    """`WritesDisabledStorageClient` for an `AsyncStorageClient`: the same refusals (before
    any I/O); every read is the inner client's own coroutine or iterator."""

    def __init__(self, inner: AsyncStorageClient) -> None:
        self.inner = inner
        self.backend = inner.backend
        self.container_name = inner.container_name

    def __repr__(self) -> str:
        return f"AsyncWritesDisabledStorageClient({self.inner!r})"

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)  # the reads, stats(), breaker, ...

    async def upload_file(
        self,
        blob_name: str,
        data: AsyncUploadData,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        overwrite: bool = True,
        *,
        length: int | None = None,
    ) -> str:
        refuse(self.backend, "upload_file", blob_name)

    async def delete_blob(self, blob_name: str, missing_ok: bool = False) -> bool:
        refuse(self.backend, "delete_blob", blob_name)

    async def create_container(self, exist_ok: bool = True) -> None:
        refuse(self.backend, "create_container")

    async def delete_container(self, missing_ok: bool = True) -> None:
        refuse(self.backend, "delete_container")

    async def generate_sas_url(
        self, blob_name: str, expiry_hours: float = 24, permission: SasPermission = "r"
    ) -> str:
        if _grants_more_than_read(permission):
            refuse(self.backend, f"generate_sas_url(permission={permission!r})", blob_name)
        return await self.inner.generate_sas_url(blob_name, expiry_hours, permission)

    async def close(self) -> None:
        await self.inner.close()
