"""Streamed uploads for the async clients: a source read in blocks, blocks sent with
bounded concurrency. Shared by the Azure (blocks) and S3 (parts) async clients.

- `Blocks` reads an async iterable of bytes, or a sync non-seekable stream, into blocks
  of exactly `size` bytes (the last one shorter). It holds at most one block plus one
  incoming chunk, and with `length` it enforces the declared length: a source that ends
  early or has more raises `UploadLengthMismatchError` before the upload is committed.
- `send_bounded` sends blocks as they are read with at most `limit` in flight; a failure
  cancels the others and is raised (the caller aborts / never commits).
- `unretryable` turns a transient failure after bytes were consumed into
  `NonRetryableUploadError`: the source cannot be read again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterator, Sequence
from typing import Any, BinaryIO, Protocol, TypeVar

from crownsafe.errors import (
    NonRetryableUploadError,
    StorageError,
    StorageThrottledError,
    StorageUnavailableError,
    UploadLengthMismatchError,
)

__all__ = [
    "BlockSource",
    "Blocks",
    "ReadParts",
    "is_streamed_source",
    "send_bounded",
    "unretryable",
]

R = TypeVar("R")


def is_streamed_source(data: object) -> bool:
    """An async iterable, or a sync stream that cannot seek (read once, in blocks)."""
    if isinstance(data, AsyncIterable):
        return True
    if not callable(getattr(data, "read", None)):
        return False
    try:
        return not bool(getattr(data, "seekable", lambda: False)())
    except (OSError, ValueError):
        return True


class BlockSource(Protocol):
    async def next(self) -> bytes | None: ...


class ReadParts:
    """Blocks from views that read on demand (`crownsafe.storage.s3._parts.PartBody`s
    over bytes, a file or a seekable stream): each is read when it is about to be sent."""

    def __init__(self, parts: Iterator[Any]) -> None:
        self._parts = parts

    async def next(self) -> bytes | None:
        part = next(self._parts, None)
        return None if part is None else bytes(part.read())


class Blocks:
    """The source as blocks of `size` bytes; `consumed` counts the bytes read from it."""

    def __init__(
        self,
        source: AsyncIterable[bytes] | BinaryIO,
        size: int,
        *,
        length: int | None,
        backend: str,
        blob_name: str,
    ) -> None:
        if size < 1:
            raise ValueError(f"block size must be positive, got {size}")
        self._source = source
        self._chunks: AsyncIterator[bytes] | None = (
            aiter(source) if isinstance(source, AsyncIterable) else None
        )
        self._size = size
        self._length = length
        self._pending = bytearray()
        self._ended = False
        self.consumed = 0
        self._backend = backend
        self._blob_name = blob_name

    def _mismatch(self, what: str) -> UploadLengthMismatchError:
        return UploadLengthMismatchError(
            f"the stream {what} (length={self._length}); nothing was stored",
            backend=self._backend,
            operation="upload_file",
            blob_name=self._blob_name,
        )

    async def _read(self) -> bytes:
        if self._chunks is not None:
            try:
                return bytes(await anext(self._chunks))
            except StopAsyncIteration:
                return b""
        stream: Any = self._source
        return bytes(stream.read(self._size) or b"")

    async def next(self) -> bytes | None:
        """The next block, or None after the last; the declared length is checked."""
        while not self._ended and len(self._pending) < self._size:
            chunk = await self._read()
            if not chunk:
                self._ended = True
                break
            self.consumed += len(chunk)
            if self._length is not None and self.consumed > self._length:
                raise self._mismatch("has more bytes than declared")
            self._pending += chunk
        if self._ended and self._length is not None and self.consumed < self._length:
            raise self._mismatch(f"ended after {self.consumed} bytes")
        if not self._pending:
            return None
        block = bytes(self._pending[: self._size])
        del self._pending[: self._size]
        if (
            self._length is not None
            and self.consumed == self._length
            and not self._pending
            and not self._ended
        ):
            await self._check_end()
        return block

    async def _check_end(self) -> None:
        """All declared bytes are in: one more read must find the end of the source."""
        extra = await self._read()
        if extra:
            self.consumed += len(extra)
            raise self._mismatch("has more bytes than declared")
        self._ended = True


async def send_bounded(
    blocks: BlockSource,
    send: Callable[[int, bytes], Awaitable[R]],
    limit: int,
    *,
    first: Sequence[bytes] = (),
) -> list[R]:
    """Send `first`, then the rest of `blocks`, numbered from 1, at most `limit` at once.

    Results come back in block order. A failure cancels the blocks still in flight.
    """
    results: dict[int, R] = {}
    in_flight: set[asyncio.Task[tuple[int, R]]] = set()

    async def numbered(number: int, block: bytes) -> tuple[int, R]:
        return number, await send(number, block)

    async def collect() -> None:
        """Wait for one to finish (a failure is raised at once, the rest cancelled)."""
        nonlocal in_flight
        done, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            finished, result = task.result()
            results[finished] = result

    number = 0
    try:
        queued = list(first)
        while True:
            while len(in_flight) >= limit:
                await collect()
            block = queued.pop(0) if queued else await blocks.next()
            if block is None:
                break
            number += 1
            in_flight.add(asyncio.ensure_future(numbered(number, block)))
            del block
        while in_flight:
            await collect()
    except BaseException:
        for task in in_flight:
            task.cancel()
        if in_flight:
            await asyncio.wait(in_flight)
        raise
    return [results[n] for n in sorted(results)]


def unretryable(err: StorageError, consumed: int, blob_name: str) -> StorageError:
    """A transient failure after `consumed` bytes of a read-once source was taken:
    `NonRetryableUploadError` (sending it again would send a partial body)."""
    if not consumed or not isinstance(err, StorageThrottledError | StorageUnavailableError):
        return err
    replaced = NonRetryableUploadError(
        f"upload from a non-seekable stream failed after {consumed} bytes were read from "
        f"it, so it cannot be retried: {err.reason}",
        backend=err.backend,
        operation="upload_file",
        blob_name=blob_name,
        status=err.status,
        error_code=err.error_code,
        request_id=err.request_id,
    )
    replaced.__cause__ = err
    return replaced
