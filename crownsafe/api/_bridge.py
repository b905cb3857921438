"""A blocking file-like reader for a worker thread, fed from the event loop.

The storage clients are synchronous and read their upload body with `read_pieces(n)` (a
block or part of a body of unknown length, Azure and S3: the chunks as they arrived, sent
as they are, never joined), `read1(n)` (a streamed body of known length: one chunk at a
time), `read(n)` or `readinto(buffer)` (other readers). The
request body arrives as async chunks. `StreamBridge` joins the two through a buffer
guarded by one `threading.Condition`:

- the event loop `await feed(chunk)`s: it appends the chunk and returns at once while
  fewer than `high_water` bytes (or what the reader waits for, or the block size of a
  `read_pieces` reader, if more) are buffered;
  beyond that it waits until the thread has taken data, which stops reading the socket
  (TCP back-pressure). Memory stays bounded whatever the body size.
- the thread is woken only when what it waits for is there (the whole `read(n)` or
  `read_pieces(n)`, or `min_read` bytes for `readinto` and `read1`), not once per network
  chunk: a wake-up costs a GIL
  hand-over, and a 10 MB body arrives in hundreds of chunks.
- the loop is woken from the thread with `loop.call_soon_threadsafe` (never waiting for
  the loop), so feeding and reading overlap.

`abort(reason)` makes the reader raise `UploadAbortedError`, so the upload fails and
nothing is committed (Azure never commits the staged blocks, S3 aborts the multipart
upload). The event loop side needs asyncio (uvicorn's loop, or uvloop).
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from typing import Any

__all__ = ["HIGH_WATER_BYTES", "MIN_READ_BYTES", "StreamBridge", "UploadAbortedError"]

HIGH_WATER_BYTES = 1024 * 1024
"""Bytes the loop may buffer ahead of the reader before it stops reading the socket."""
MIN_READ_BYTES = 256 * 1024
"""`readinto` waits for at least this much (or the buffer's size, or the end)."""


class UploadAbortedError(Exception):
    """The request side gave up (limit exceeded, client gone): the upload must not commit."""


class StreamBridge:
    """Bytes fed by one event-loop task, read by one thread. Create it inside the loop."""

    def __init__(
        self, *, high_water: int = HIGH_WATER_BYTES, min_read: int = MIN_READ_BYTES
    ) -> None:
        if high_water < 1 or min_read < 1:
            raise ValueError("high_water and min_read must be positive")
        self._loop = asyncio.get_running_loop()
        self._cond = threading.Condition(threading.Lock())
        self._chunks: deque[memoryview] = deque()
        self._buffered = 0
        self._wanted = 0
        """Bytes the reader waits for (0 while it is not waiting)."""
        self._eof = False
        self._aborted: str | None = None
        self._room: asyncio.Event | None = None
        """Set while the loop waits for the reader to take data."""
        self._high_water = high_water
        self._min_read = min_read
        self._ahead = 0
        """The block size of a `read_pieces` reader: what the loop may buffer meanwhile."""
        self.consumed = 0

    # -- event-loop side ------------------------------------------------------------------

    async def feed(self, data: bytes) -> None:
        """Hand `data` to the reader; waits while the buffer is full (back-pressure)."""
        if not data:
            return
        with self._cond:
            if self._aborted is not None or self._eof:
                return
            self._chunks.append(memoryview(data))
            self._buffered += len(data)
            if self._wanted and self._buffered >= self._wanted:
                self._cond.notify()
        while True:
            with self._cond:
                if self._aborted is not None or self._buffered < self._limit():
                    return
                room = self._room = asyncio.Event()
            await room.wait()

    def preload(self, chunks: list[bytes]) -> None:
        """Buffer `chunks` before the reader starts (no copy, no back-pressure wait)."""
        with self._cond:
            for chunk in chunks:
                if chunk:
                    self._chunks.append(memoryview(chunk))
                    self._buffered += len(chunk)

    async def finish(self) -> None:
        """The body is complete: the reader gets the rest, then end of stream."""
        self._close(None)

    def abort(self, reason: str) -> None:
        """Make the reader raise `UploadAbortedError(reason)` (callable from the loop)."""
        self._close(reason)

    def _close(self, reason: str | None) -> None:
        with self._cond:
            if reason is not None and self._aborted is None:
                self._aborted = reason
            self._eof = True
            self._cond.notify_all()
            self._wake_loop()

    def _limit(self) -> int:
        return max(self._high_water, self._wanted, self._ahead)

    def _wake_loop(self) -> None:
        """Under the lock: let a waiting `feed` re-check (never blocks the thread)."""
        room, self._room = self._room, None
        if room is not None:
            self._loop.call_soon_threadsafe(room.set)

    # -- thread side ----------------------------------------------------------------------

    def _check(self) -> None:
        if self._aborted is not None:
            raise UploadAbortedError(self._aborted)

    def _wait_for(self, size: int) -> None:
        """Under the lock: wait until `size` bytes are buffered, or the end, or an abort."""
        while self._buffered < size and not self._eof:
            self._wanted = size
            if self._room is not None and self._buffered < self._limit():
                self._wake_loop()
            self._cond.wait()
        self._wanted = 0
        self._check()

    def _taken(self, count: int) -> None:
        """Under the lock: `count` bytes left the buffer."""
        self._buffered -= count
        self.consumed += count
        if self._room is not None and self._buffered < self._limit():
            self._wake_loop()

    def read(self, size: int | None = -1, /) -> bytes:
        """`size` bytes (fewer only at the end of the body); all of the rest for -1."""
        pieces = self._take(size)
        if len(pieces) == 1 and isinstance(pieces[0], bytes):
            return pieces[0]
        return b"".join(pieces)

    def read_pieces(self, size: int, /) -> list[bytes | memoryview]:
        """As `read(size)`, but the bytes as the chunks they arrived in (each the fed bytes
        object itself, or a view of part of one): nothing is joined or copied. One wake-up
        per call, as `read`. For a reader that sends a block whose length it must know
        before it starts (`crownsafe.storage._pieces`). From then on the loop may buffer
        up to `size` bytes (the next block) while the reader sends this one, so receiving
        and sending overlap: at most two blocks per upload."""
        with self._cond:
            self._ahead = max(self._ahead, size)
        return self._take(size)

    def _take(self, size: int | None) -> list[bytes | memoryview]:
        """Wait for `size` bytes (all of the rest for -1), then take them off the buffer."""
        with self._cond:
            self._check()
            if size is None or size < 0:
                self._wait_for(1 << 62)
                size = self._buffered
            else:
                self._wait_for(size)
            pieces: list[bytes | memoryview] = []
            left = min(size, self._buffered)
            total = left
            while left:
                chunk = self._chunks[0]
                if len(chunk) <= left:
                    pieces.append(_unwrapped(self._chunks.popleft()))
                    left -= len(chunk)
                else:
                    pieces.append(chunk[:left])
                    self._chunks[0] = chunk[left:]
                    left = 0
            self._taken(total)
        return pieces

    def read1(self, size: int = -1, /) -> bytes:
        """What is buffered, up to `size` bytes (at least one unless at the end), without
        joining: one network chunk as it arrived (the same bytes object, no copy) or the
        first `size` bytes of it. For a reader that sends the pieces on (S3's streamed
        body, `crownsafe.storage.s3._streaming`). An empty buffer is waited on until
        `MIN_READ_BYTES` (or `size`, or the end) arrived: one wake-up per that many bytes."""
        with self._cond:
            self._check()
            if not self._buffered:  # woken once per MIN_READ_BYTES, not once per chunk
                self._wait_for(min(self._min_read, size if size > 0 else self._min_read))
            if not self._chunks:
                return b""
            chunk = self._chunks[0]
            if 0 <= size < len(chunk):
                self._chunks[0] = chunk[size:]
                chunk = chunk[:size]
            else:
                self._chunks.popleft()
            self._taken(len(chunk))
        piece = _unwrapped(chunk)
        return piece if isinstance(piece, bytes) else piece.tobytes()

    def readinto(self, buffer: Any, /) -> int:
        """Copy what is buffered (at least `MIN_READ_BYTES` or to the end) into `buffer`."""
        target = memoryview(buffer).cast("B")
        with self._cond:
            self._check()
            self._wait_for(min(len(target), self._min_read))
            filled = 0
            while filled < len(target) and self._chunks:
                chunk = self._chunks[0]
                count = min(len(chunk), len(target) - filled)
                target[filled : filled + count] = chunk[:count]
                filled += count
                if count == len(chunk):
                    self._chunks.popleft()
                else:
                    self._chunks[0] = chunk[count:]
            self._taken(filled)
        return filled

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        """Drop what is still buffered (call once the reading thread is done)."""
        with self._cond:
            self._chunks.clear()
            self._buffered = 0
            self._eof = True
            self._cond.notify_all()
            self._wake_loop()


def _unwrapped(chunk: memoryview) -> bytes | memoryview:
    """The fed bytes object itself when `chunk` is a view of all of it, else the view."""
    whole = chunk.obj
    if isinstance(whole, bytes) and len(whole) == len(chunk):
        return whole
    return chunk
