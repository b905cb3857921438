"""`AsyncResilientStorageClient`: any `AsyncStorageClient` behind the same circuit breaker
and retries as the sync `ResilientStorageClient`.

One retry layer, one breaker per backend: `from_settings` takes the process-wide breaker
of the backend (`crownsafe.resilience.breaker_for_backend`), the very object the sync
client uses, so failures seen by either count together and an open breaker refuses both.
The breaker only holds its lock for bookkeeping, never across an await, so threads and the
event loop share it safely.

Everything but the loop is the sync client's (`ResilienceCore`): the classification of a
failed attempt (the breaker's stop, `after_failure`), the stats, metrics and log lines,
and the retry plans of uploads, downloads, listings and deletes. The loop is
`RetryPolicy.call_async` (tenacity's `AsyncRetrying`, backoff slept with `asyncio.sleep`)
around `CircuitBreaker.call_async`, inside the call's correlation scope.

Retried as in the sync client (see `crownsafe.storage.resilient`), plus: an async
iterable given to `upload_file` is read once, like a non-seekable stream, so it is
retried only when no byte was read from it.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, BinaryIO, TypeVar

from crownsafe.correlation import (
    correlation_scope,
    enter_correlation,
    exit_correlation,
    get_correlation_id,
    new_correlation_id,
)
from crownsafe.errors import BlobNotFoundError
from crownsafe.resilience import log_storage_failure
from crownsafe.storage.async_base import (
    AsyncClosingContextManager,
    AsyncStorageClient,
    AsyncUploadData,
)
from crownsafe.storage.base import DEFAULT_CHUNK_SIZE, BlobInfo, SasPermission
from crownsafe.storage.resilient import (
    AfterFailure,
    ResilienceCore,
    UploadPlan,
    _blob_size,
    _GiveUp,
    _identity,
    deleted,
    download_plan,
    read_once_failure,
    resume_after,
    upload_plan,
)

__all__ = ["AsyncResilientStorageClient"]

R = TypeVar("R")


class _CountingSource:
    """An async iterable of bytes that counts what was taken from it."""

    def __init__(self, source: AsyncIterable[bytes]) -> None:
        self._source = source
        self.consumed = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._source:
            self.consumed += len(chunk)
            yield chunk


def _async_upload_plan(
    backend: str, blob_name: str, data: AsyncUploadData, length: int | None
) -> UploadPlan:
    if not isinstance(data, AsyncIterable):
        return upload_plan(backend, blob_name, data, length)
    source = _CountingSource(data)

    def consumed() -> int:
        return source.consumed

    return UploadPlan(
        source, consumed, after_failure=read_once_failure(consumed, backend, blob_name)
    )


class AsyncResilientStorageClient(ResilienceCore[AsyncStorageClient], AsyncClosingContextManager):
    """An `AsyncStorageClient` that adds a circuit breaker, retries and correlation ids."""

    async def _run(
        self,
        operation: str,
        blob_name: str | None,
        fn: Callable[..., Awaitable[R]],
        *args: Any,
        before_retry: Callable[[], None] | None = None,
        after_failure: AfterFailure | None = None,
        record: bool = True,
        size: Callable[[R], int | None] | None = None,
        **kwargs: Any,
    ) -> R:
        """Run one logical call (the sync `_run`, awaited)."""
        attempts = 0

        async def attempt() -> R:
            nonlocal attempts
            attempts += 1
            if attempts > 1 and before_retry is not None:
                before_retry()
            try:
                return await self.breaker.call_async(fn, *args, **kwargs)
            except Exception as exc:
                failure = self._attempt_failed(operation, blob_name, exc, attempts, after_failure)
                if failure is exc:
                    raise
                raise failure from failure.__cause__

        began = self._clock()
        token = enter_correlation()
        try:
            result = await self.retry.call_async(attempt)
        except _GiveUp as give_up:
            return self._failed(operation, blob_name, give_up.error, attempts, record, began)
        except Exception as exc:
            return self._failed(operation, blob_name, exc, attempts, record, began)
        else:
            if record:
                self._succeeded(operation, blob_name, attempts, began, size, result)
            return result
        finally:
            exit_correlation(token)

    # -- uploads ------------------------------------------------------------------------

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
        plan = _async_upload_plan(self.backend, blob_name, data, length)
        url = await self._run(
            "upload_file",
            blob_name,
            self.inner.upload_file,
            blob_name,
            plan.body,
            content_type,
            metadata,
            overwrite,
            before_retry=plan.before_retry,
            after_failure=plan.after_failure,
            size=lambda _url: plan.sent(),
            length=length,
        )
        plan.count_uploaded(self._metrics)
        return url

    # -- downloads ----------------------------------------------------------------------

    async def download_blob(self, blob_name: str) -> bytes:
        data = await self._run(
            "download_blob", blob_name, self.inner.download_blob, blob_name, size=len
        )
        self._metrics.count_downloaded(len(data))
        return data

    async def download_to(self, blob_name: str, file: BinaryIO | os.PathLike[str] | str) -> int:
        plan = download_plan(file)
        written = await self._run(
            "download_to",
            blob_name,
            self.inner.download_to,
            blob_name,
            plan.target,
            before_retry=plan.before_retry,
            after_failure=plan.after_failure,
            size=_identity,
        )
        self._metrics.count_downloaded(written)
        return written

    async def iter_blob_chunks(
        self, blob_name: str, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> AsyncIterator[bytes]:
        """Stream chunks; retried until the first chunk is in hand, never after."""
        cid = get_correlation_id() or new_correlation_id()

        async def first() -> tuple[AsyncIterator[bytes], bytes | None]:
            chunks = await self.inner.iter_blob_chunks(blob_name, chunk_size)
            return chunks, await anext(chunks, None)

        with correlation_scope(cid):
            chunks, head = await self._run("iter_blob_chunks", blob_name, first)
        return self._rest_of_chunks(cid, blob_name, chunks, head)

    async def _rest_of_chunks(
        self, cid: str, blob_name: str, chunks: AsyncIterator[bytes], head: bytes | None
    ) -> AsyncIterator[bytes]:
        if head is None:
            return
        downloaded = self._metrics.count_downloaded
        downloaded(len(head))
        yield head
        while True:
            with correlation_scope(cid):
                try:
                    chunk = await anext(chunks, None)
                except Exception as exc:
                    log_storage_failure(exc, operation="iter_blob_chunks", blob_name=blob_name)
                    raise
            if chunk is None:
                return
            downloaded(len(chunk))
            yield chunk

    # -- listing ------------------------------------------------------------------------

    async def list_blobs(
        self, prefix: str | None = None, max_results: int | None = None
    ) -> list[BlobInfo]:
        return await self._run("list_blobs", None, self.inner.list_blobs, prefix, max_results)

    async def iter_blobs(
        self, prefix: str | None = None, page_size: int | None = None
    ) -> AsyncIterator[BlobInfo]:
        """Iterate all blobs; a failure mid-way resumes after the last name yielded."""
        current: AsyncIterator[BlobInfo] | None = None
        last: str | None = None

        async def advance() -> BlobInfo | None:
            nonlocal current
            try:
                if current is None:
                    current = aiter(self.inner.iter_blobs(prefix, page_size))
                    async for info in current:
                        if resume_after(last, info):
                            return info
                    return None
                return await anext(current, None)
            except BaseException:
                current = None
                raise

        cid = get_correlation_id() or new_correlation_id()
        while True:
            with correlation_scope(cid):
                item = await self._run("iter_blobs", None, advance, record=False)
            if item is None:
                return
            last = item.name
            yield item

    # -- the rest -----------------------------------------------------------------------

    async def generate_sas_url(
        self, blob_name: str, expiry_hours: float = 24, permission: SasPermission = "r"
    ) -> str:
        return await self._run(
            "generate_sas_url",
            blob_name,
            self.inner.generate_sas_url,
            blob_name,
            expiry_hours,
            permission,
        )

    async def blob_exists(self, blob_name: str) -> bool:
        return await self._run("blob_exists", blob_name, self.inner.blob_exists, blob_name)

    async def head_object(self, blob_name: str) -> BlobInfo:
        return await self._run(
            "head_object", blob_name, self.inner.head_object, blob_name, size=_blob_size
        )

    async def delete_blob(self, blob_name: str, missing_ok: bool = False) -> bool:
        attempts = 0

        async def delete() -> bool:
            nonlocal attempts
            attempts += 1
            try:
                existed = await self.inner.delete_blob(blob_name, missing_ok)
            except BlobNotFoundError:
                if attempts > 1:
                    return True  # an earlier attempt whose response was lost deleted it
                raise
            return deleted(existed, attempts)

        return await self._run("delete_blob", blob_name, delete)

    def get_blob_url(self, blob_name: str) -> str:
        return self.inner.get_blob_url(blob_name)

    async def create_container(self, exist_ok: bool = True) -> None:
        await self._run("create_container", None, self.inner.create_container, exist_ok)

    async def delete_container(self, missing_ok: bool = True) -> None:
        await self._run("delete_container", None, self.inner.delete_container, missing_ok)

    async def close(self) -> None:
        await self.inner.close()
