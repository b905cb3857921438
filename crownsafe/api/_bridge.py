"""A blocking file-like reader for a worker thread, fed from the event loop.

The storage clients are synchronous and read their upload body with `read(n)`. The
request body arrives as async chunks. `StreamBridge` joins the two through a bounded
memory stream: the event loop `await feed(chunk)`s (and waits when the thread is
behind, which stops reading the socket: TCP back-pressure), the thread `read()`s. At most
`max_chunks` chunks wait in between, so memory stays bounded whatever the body size.
`abort(error)` makes the reader raise, so the upload fails and nothing is committed
(Azure never commits the staged blocks, S3 aborts the multipart upload).
"""

from __future__ import annotations

import anyio
from anyio.from_thread import BlockingPortal

__all__ = ["StreamBridge", "UploadAbortedError"]


class UploadAbortedError(Exception):
    """The request side gave up (limit exceeded, client gone): the upload must not commit."""


class StreamBridge:
    def __init__(self, portal: BlockingPortal, max_chunks: int = 16) -> None:
        self._portal = portal
        self._send, self._receive = anyio.create_memory_object_stream[bytes](max_chunks)
        self._buffer = bytearray()
        self._eof = False
        self._aborted: str | None = None
        self.consumed = 0

    # -- event-loop side ------------------------------------------------------------------

    async def feed(self, data: bytes) -> None:
        if data:
            await self._send.send(data)

    async def finish(self) -> None:
        await self._send.aclose()

    def abort(self, reason: str) -> None:
        self._aborted = reason
        self._send.close()

    # -- thread side ----------------------------------------------------------------------

    def _check(self) -> None:
        if self._aborted is not None:
            raise UploadAbortedError(self._aborted)

    def _pull(self) -> None:
        try:
            chunk = self._portal.call(self._receive.receive)
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            self._eof = True
        else:
            self._buffer += chunk
        self._check()

    def read(self, size: int | None = -1, /) -> bytes:
        self._check()
        if size is None or size < 0:
            while not self._eof:
                self._pull()
            size = len(self._buffer)
        while len(self._buffer) < size and not self._eof:
            self._pull()
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        self.consumed += len(data)
        return data

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        """Release both ends (call once the reading thread is done)."""
        self._send.close()
        self._receive.close()
