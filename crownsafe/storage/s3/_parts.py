"""Multipart upload parts as file-like views, so a part is never copied when it need not be.

botocore reads a part body more than once (SigV4 payload hash over plain HTTP, the CRC32
checksum, then the send) and seeks back in between, so every part is a `PartBody`: a
read-only, seekable view of `length` bytes of a source.

- bytes and seekable sources (paths, files, BytesIO): parts read their range on demand
  (under a lock, as all parts share one stream): nothing is buffered;
- non-seekable streams: each part is read into one of at most `pool_size` reusable
  buffers, given back when the part has been sent (fixed memory, no heap churn).
"""

from __future__ import annotations

import math
import os
import queue
import threading
from collections.abc import Callable, Iterator
from functools import partial
from typing import BinaryIO, Protocol

__all__ = [
    "MAX_OBJECT_SIZE",
    "MAX_PARTS",
    "MAX_PART_SIZE",
    "MIN_PART_SIZE",
    "PartBody",
    "buffered_parts",
    "bytes_parts",
    "plan_part_size",
    "read_exact",
    "region_parts",
    "stream_reader",
]

ReadAt = Callable[[int, int], bytes]


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class PartBody:
    """A read-only, seekable file-like view of `length` bytes read through `read_at`."""

    def __init__(
        self,
        read_at: ReadAt,
        length: int,
        release: Callable[[], None] | None = None,
        buffer: bytearray | None = None,
    ) -> None:
        self._read_at = read_at
        self._length = length
        self._position = 0
        self._release = release
        self.buffer = buffer
        """The pooled buffer behind a buffered part (None for a view of a source)."""

    def __len__(self) -> int:
        return self._length

    def read(self, size: int = -1, /) -> bytes:
        remaining = self._length - self._position
        wanted = remaining if size is None or size < 0 else min(size, remaining)
        if wanted <= 0:
            return b""
        data = self._read_at(self._position, wanted)
        self._position += len(data)
        return data

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._position, os.SEEK_END: self._length}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._position = base + offset
        return self._position

    def tell(self) -> int:
        return self._position

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def close(self) -> None:
        """botocore may close a body; the source stays open (its owner closes it)."""

    def release(self) -> None:
        """Give the part's buffer back (buffered parts); idempotent."""
        release, self._release = self._release, None
        if release is not None:
            release()


def read_exact(stream: _Readable, size: int) -> bytes:
    """Read `size` bytes, or fewer only at the end of the stream (raw reads may be short)."""
    first = stream.read(size) or b""
    if not first or len(first) == size:
        return first
    pieces = [first]
    remaining = size - len(first)
    while remaining:
        piece = stream.read(remaining)
        if not piece:
            break
        pieces.append(piece)
        remaining -= len(piece)
    return b"".join(pieces)


def stream_reader(stream: BinaryIO, start: int) -> ReadAt:
    """Positional reads relative to `start` on a seekable stream, safe across threads."""
    lock = threading.Lock()

    def read_at(position: int, size: int) -> bytes:
        with lock:
            stream.seek(start + position)
            return read_exact(stream, size)

    return read_at


def _shifted(read_at: ReadAt, base: int, position: int, size: int) -> bytes:
    return read_at(base + position, size)


def region_parts(read_at: ReadAt, size: int, part_size: int) -> Iterator[PartBody]:
    """Parts of `part_size` bytes (the last shorter) over `size` bytes readable at offsets."""
    for offset in range(0, size, part_size):
        yield PartBody(partial(_shifted, read_at, offset), min(part_size, size - offset))


def _view_reader(view: memoryview) -> ReadAt:
    return lambda position, size: bytes(view[position : position + size])


def _fill(stream: _Readable, buffer: bytearray) -> int:
    """Fill `buffer` from the stream (with `readinto` when it has one); short only at EOF."""
    view = memoryview(buffer)
    readinto = getattr(stream, "readinto", None)
    filled = 0
    while filled < len(buffer):
        if readinto is not None:
            count = readinto(view[filled:])
            if count is None:
                raise BlockingIOError("the stream is non-blocking and had no data ready")
        else:
            piece = stream.read(len(buffer) - filled)
            count = len(piece or b"")
            view[filled : filled + count] = piece or b""
        if not count:
            break
        filled += count
    return filled


def buffered_parts(stream: _Readable, part_size: int) -> Iterator[PartBody]:
    """Parts read into reusable buffers; a part's buffer returns to the pool on `release()`.

    The pool grows only while every buffer is out, so with at most N parts alive at once
    (the uploader's concurrency bound) it never holds more than N buffers.
    """
    free: queue.SimpleQueue[bytearray] = queue.SimpleQueue()
    while True:
        try:
            buffer = free.get_nowait()
        except queue.Empty:
            buffer = bytearray(part_size)
        filled = _fill(stream, buffer)
        if not filled:
            return
        view = memoryview(buffer)[:filled]
        yield PartBody(_view_reader(view), filled, partial(free.put, buffer), buffer)
        del view, buffer
        if filled < part_size:
            return


def bytes_parts(data: memoryview, part_size: int) -> Iterator[PartBody]:
    """Parts over bytes already in memory (no copy of a whole part)."""
    return region_parts(_view_reader(data), len(data), part_size)


MIN_PART_SIZE = 5 * 1024 * 1024


MAX_PART_SIZE = 5 * 1024 * 1024 * 1024


MAX_PARTS = 10_000


MAX_OBJECT_SIZE = 5 * 1024**4


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
