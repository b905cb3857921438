"""Stream views the resilient client retries through: they count the bytes that passed, so
a retry knows whether a partial body was already sent (then it cannot retry) or written."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO

from crownsafe.errors import UploadLengthMismatchError
from crownsafe.storage._pieces import Piece, read_pieces, total_length

__all__ = [
    "ExactLengthReader",
    "ReadGuard",
    "WriteGuard",
    "check_length",
    "is_seekable",
    "surface_failure",
]


class ReadGuard:
    """A non-seekable view of a stream that counts the bytes read through it."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.consumed = 0

    def read(self, size: int = -1, /) -> bytes:
        data = self._stream.read(size) or b""
        self.consumed += len(data)
        return data

    def read1(self, size: int = -1, /) -> bytes:
        """The stream's `read1` when it has one (its pieces as they are), else `read`."""
        data = getattr(self._stream, "read1", self._stream.read)(size) or b""
        self.consumed += len(data)
        return data

    def read_pieces(self, size: int, /) -> list[Piece]:
        """`size` bytes as the stream's pieces (`crownsafe.storage._pieces.read_pieces`)."""
        pieces = read_pieces(self._stream, size)
        self.consumed += total_length(pieces)
        return pieces

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


def check_length(backend: str, name: str, size: int, length: int | None) -> None:
    """Data of a known size with a declared `length`: they must agree (nothing is sent)."""
    if length is not None and length != size:
        raise UploadLengthMismatchError(
            f"the data holds {size} bytes, not the declared length {length}; nothing was stored",
            backend=backend,
            operation="upload_file",
            blob_name=name,
        )


def is_seekable(stream: object) -> bool:
    try:
        return bool(getattr(stream, "seekable", lambda: False)())
    except (OSError, ValueError):
        return False


class ExactLengthReader:
    """A view of a non-seekable stream that hands out exactly `length` bytes, or raises.

    - the stream ends early: `UploadLengthMismatchError` (short);
    - before the last byte is handed out, one more byte is asked of the stream: if it has
      one, `UploadLengthMismatchError` (long), so a request never completes with a body we
      silently cut;
    - whatever it raises (its own stream's errors too) is kept in `failure`: the SDKs wrap
      an exception raised from a request body in their own connection error, and the client
      re-raises `failure` instead.
    """

    def __init__(self, stream: BinaryIO, length: int, *, backend: str, blob_name: str) -> None:
        if length < 0:
            raise ValueError(f"length must be >= 0, got {length}")
        self._stream = stream
        self._readinto = getattr(stream, "readinto", None)
        self.length = length
        self.consumed = 0
        self.failure: BaseException | None = None
        self._backend = backend
        self._blob_name = blob_name

    def check_empty(self) -> None:
        """For `length=0`: raise when the stream has any byte."""
        if self.length == 0 and self._stream.read(1):
            raise self._mismatch("has more bytes than declared")

    def _mismatch(self, what: str) -> UploadLengthMismatchError:
        return UploadLengthMismatchError(
            f"the stream {what} (length={self.length}); nothing was stored",
            backend=self._backend,
            operation="upload_file",
            blob_name=self._blob_name,
        )

    def _guarded(self, fill: Any, size: int) -> int:
        if self.failure is not None:
            raise self.failure
        try:
            count = int(fill(size) or 0)
            if count == 0:
                raise self._mismatch(f"ended after {self.consumed} bytes")
            self.consumed += count
            if self.consumed == self.length and self._stream.read(1):
                raise self._mismatch("has more bytes than declared")
            return count
        except BaseException as exc:
            self.failure = exc
            raise

    def read(self, size: int | None = -1, /) -> bytes:
        return self._read(self._stream.read, size)

    def read1(self, size: int = -1, /) -> bytes:
        """As `read`, through the stream's `read1` when it has one (pieces, not joined)."""
        return self._read(getattr(self._stream, "read1", self._stream.read), size)

    def _read(self, read: Any, size: int | None) -> bytes:
        left = self.length - self.consumed
        if left <= 0:
            return b""
        want = left if size is None or size < 0 else min(size, left)
        out: list[bytes] = []

        def fill(n: int) -> int:
            data = read(n) or b""
            out.append(data)
            return len(data)

        self._guarded(fill, want)
        return out[0]

    def readinto(self, buffer: Any, /) -> int:
        target = memoryview(buffer).cast("B")
        left = self.length - self.consumed
        if left <= 0 or not len(target):
            return 0
        view = target[: min(len(target), left)]

        def fill(n: int) -> int:
            if self._readinto is not None:
                return int(self._readinto(view) or 0)
            data = self._stream.read(n) or b""
            view[: len(data)] = data
            return len(data)

        return self._guarded(fill, len(view))

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False


@contextmanager
def surface_failure(reader: ExactLengthReader | None) -> Iterator[None]:
    """Around the SDK call that reads `reader`: what the reader raised (a length mismatch,
    the source stream's own error) is raised instead of the SDK's connection error that
    wraps it."""
    try:
        yield
    except BaseException:
        if reader is not None and reader.failure is not None:
            raise reader.failure from None
        raise
