"""Multipart upload parts as file-like views, so a part is never copied when it need not be.

botocore reads a part body more than once (SigV4 payload hash over plain HTTP, the CRC32
checksum, then the send) and seeks back in between, so every part is a `PartBody`: a
read-only, seekable view of `length` bytes of a source.

- bytes and seekable sources (paths, files, BytesIO): parts read their range on demand
  (under a lock, as all parts share one stream): nothing is buffered;
- non-seekable streams: each part is the stream's own pieces (`read_pieces`: the API's
  request chunks as they arrived; one buffer filled by `readinto` for other streams),
  held until the part has been sent, and sent as they are (`pieces`); they are joined
  only if botocore must read the part as a seekable body.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any, BinaryIO, Protocol

from crownsafe.storage._pieces import Piece, Pieces, read_pieces, total_length

__all__ = [
    "MAX_OBJECT_SIZE",
    "MAX_PARTS",
    "MAX_PART_SIZE",
    "MIN_PART_SIZE",
    "PartBody",
    "bytes_parts",
    "piece_parts",
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
        pieces: list[Piece] | None = None,
    ) -> None:
        self._read_at = read_at
        self._length = length
        self._position = 0
        self._release = release
        self.pieces = pieces
        """The stream's pieces behind a part of a non-seekable stream (None for a view of
        a source): what a transport can send as they are."""

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

    def take_pieces(self) -> Pieces:
        """The part's pieces as a body that lets go of each as it is sent; the part holds
        them no more (it cannot be read again). Only for a part of pieces."""
        if self.pieces is None:
            raise ValueError("this part is a view of its source, not pieces in memory")
        body = Pieces(self.pieces)
        self.pieces.clear()
        return body

    def release(self) -> None:
        """Drop what the part holds in memory once it has been sent; idempotent."""
        self.pieces = None
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


class _JoinedPieces:
    """Positional reads over pieces, joined once on the first read (botocore reading a
    part as a seekable body: the small single PUT, or a transport without streamed parts)."""

    def __init__(self, pieces: list[Piece]) -> None:
        self._pieces = pieces
        self._joined: memoryview | None = None

    def read_at(self, position: int, size: int) -> bytes:
        if self._joined is None:
            self._joined = memoryview(b"".join(self._pieces))
        return bytes(self._joined[position : position + size])

    def release(self) -> None:
        self._pieces.clear()
        self._joined = None


def piece_parts(stream: Any, part_size: int) -> Iterator[PartBody]:
    """Parts of `part_size` bytes (the last shorter, none empty) of a non-seekable stream,
    each holding the pieces it was read as (`read_pieces`): nothing is copied into a part
    buffer. A part is read only when the consumer asks for it, so the parts alive are the
    ones the consumer holds (the uploader's concurrency bound)."""
    while True:
        pieces = read_pieces(stream, part_size)
        size = total_length(pieces)
        if not size:
            return
        joined = _JoinedPieces(pieces)
        yield PartBody(joined.read_at, size, joined.release, pieces)
        del joined
        del pieces
        if size < part_size:
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
