"""Streaming helpers: a file-like view of a chunk iterator that hashes what passes through.

`ChunkReader` lets `upload_file` read an object that is still being downloaded
(`iter_blob_chunks` of the source), so no whole object is held in memory; it counts the
bytes and computes their sha256 on the way, which is the source side of the checksum
the migration verifies against the target.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable, Iterator

__all__ = ["ChunkReader", "Digest", "digest_chunks"]


class Digest:
    """sha256 and byte count of a stream of chunks."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.size = 0

    def update(self, chunk: bytes) -> None:
        self._hash.update(chunk)
        self.size += len(chunk)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def digest_chunks(chunks: Iterable[bytes]) -> Digest:
    """Consume `chunks`, returning their sha256 and total size."""
    digest = Digest()
    for chunk in chunks:
        digest.update(chunk)
    return digest


class ChunkReader(io.RawIOBase):
    """A read-only, non-seekable binary file over an iterator of byte chunks."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        super().__init__()
        self._chunks = chunks
        self._pending = memoryview(b"")
        self.digest = Digest()
        self._exhausted = False

    def readable(self) -> bool:
        return True

    def _fill(self) -> bool:
        while not self._pending and not self._exhausted:
            try:
                chunk = next(self._chunks)
            except StopIteration:
                self._exhausted = True
                return False
            if chunk:
                self.digest.update(chunk)
                self._pending = memoryview(chunk)
        return bool(self._pending)

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        target = memoryview(buffer).cast("B")
        filled = 0
        while filled < len(target) and self._fill():
            take = min(len(target) - filled, len(self._pending))
            target[filled : filled + take] = self._pending[:take]
            self._pending = self._pending[take:]
            filled += take
        return filled

    def close(self) -> None:
        close = getattr(self._chunks, "close", None)
        if callable(close):
            close()
        super().close()
