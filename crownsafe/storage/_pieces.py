"""Upload bodies made of the pieces a stream gave, sent as they are: never joined, never
copied into a block or part buffer.

A block (Azure) or part (S3) of a stream whose length is unknown must be complete before
its request starts, since the request declares its length. The API's stream
(`crownsafe.api._bridge.StreamBridge`) holds the request body as the chunks that arrived;
`read_pieces` takes a block's worth of them in one call, and `Pieces` sends them:
urllib3 writes each piece with one `sendall` (an iterable body with a length goes out
with a Content-Length). Joining them first cost a copy of every byte into freshly mapped
memory (page faults, then unmapping): py-spy and perf put that at about a sixth of the
app's CPU for a 10 MiB multipart upload.

A stream without `read_pieces` is read with `readinto` into one buffer per block (one
copy, as before), else with `read1` / `read`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

__all__ = ["Piece", "Pieces", "StreamedPieces", "read_pieces", "total_length"]

Piece = bytes | bytearray | memoryview

STREAM_PIECE_BYTES = 1024 * 1024
"""Largest piece `StreamedPieces` asks its stream for (a network chunk is smaller)."""


def total_length(pieces: Iterable[Piece]) -> int:
    return sum(len(piece) for piece in pieces)


def read_pieces(stream: Any, size: int) -> list[Piece]:
    """`size` bytes of `stream` (fewer only at its end; none at the end) as pieces: the
    stream's own `read_pieces` when it has one, else one buffer filled with `readinto`,
    else what `read1` (or `read`) gives."""
    if size <= 0:
        return []
    own = getattr(stream, "read_pieces", None)
    if own is not None:
        return list(own(size))
    readinto = getattr(stream, "readinto", None)
    if readinto is not None:
        buffer = bytearray(size)
        view = memoryview(buffer)
        filled = 0
        while filled < size:
            count = readinto(view[filled:])
            if count is None:
                raise BlockingIOError("the stream is non-blocking and had no data ready")
            if not count:
                break
            filled += count
        return [view[:filled]] if filled else []
    read = getattr(stream, "read1", None) or stream.read
    pieces: list[Piece] = []
    left = size
    while left > 0:
        piece = read(left)
        if not piece:
            break
        pieces.append(piece)
        left -= len(piece)
    return pieces


class Pieces:
    """A request body of pieces already in memory: iterated once by urllib3 (one `sendall`
    per piece), or read with `read1` (S3's aws-chunked framing); a piece is dropped as soon
    as it was handed out, so the memory of a block in flight shrinks as it is sent.

    It has no `read`: urllib3 (and http.client) would take it for a file and read it in
    16 KiB blocks, copying every byte once more."""

    def __init__(self, pieces: Iterable[Piece]) -> None:
        self._pieces: deque[Piece] = deque(piece for piece in pieces if len(piece))
        self._length = total_length(self._pieces)

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[Piece]:
        while self._pieces:
            yield self._pieces.popleft()

    def read1(self, size: int = -1, /) -> Piece:
        """The next piece, or its first `size` bytes (a view: no copy)."""
        if not self._pieces:
            return b""
        piece = self._pieces[0]
        if 0 <= size < len(piece):
            view = memoryview(piece)
            self._pieces[0] = view[size:]
            return view[:size]
        return self._pieces.popleft()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False


class StreamedPieces:
    """A request body of exactly `length` bytes pulled from `stream` while it is sent (the
    stream's `read1` pieces as they are, at most `STREAM_PIECE_BYTES` each); iterated once
    by urllib3, with a Content-Length. A stream that gives less raises from its own reads
    (`ExactLengthReader`), or `EOFError` here."""

    def __init__(self, stream: BinaryIO, length: int) -> None:
        self._stream = stream
        self._read = getattr(stream, "read1", None) or stream.read
        self._length = length

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[Piece]:
        left = self._length
        while left > 0:
            piece = self._read(min(left, STREAM_PIECE_BYTES))
            if not piece:
                raise EOFError(f"the body ended {left} bytes early")
            left -= len(piece)
            yield piece
