"""Stream views the resilient client retries through: they count the bytes that passed, so
a retry knows whether a partial body was already sent (then it cannot retry) or written."""

from __future__ import annotations

from typing import Any, BinaryIO

__all__ = ["ReadGuard", "WriteGuard", "is_seekable"]


class ReadGuard:
    """A non-seekable view of a stream that counts the bytes read through it."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.consumed = 0

    def read(self, size: int = -1, /) -> bytes:
        data = self._stream.read(size) or b""
        self.consumed += len(data)
        return data

    def readinto(self, buffer: Any, /) -> int:
        """Fill `buffer` with the stream's `readinto` when it has one (no extra copy)."""
        readinto = getattr(self._stream, "readinto", None)
        if readinto is None:
            target = memoryview(buffer).cast("B")
            data = self._stream.read(len(target)) or b""
            target[: len(data)] = data
            count = len(data)
        else:
            count = readinto(buffer) or 0
        self.consumed += count
        return count

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False


class WriteGuard:
    """A non-seekable sink that counts the bytes written through it."""

    def __init__(self, sink: BinaryIO) -> None:
        self._sink = sink
        self.written = 0

    def write(self, data: bytes) -> int:
        count = self._sink.write(data)
        self.written += len(data)
        return count if count is not None else len(data)

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def flush(self) -> None:
        self._sink.flush()


def is_seekable(stream: object) -> bool:
    try:
        return bool(getattr(stream, "seekable", lambda: False)())
    except (OSError, ValueError):
        return False
