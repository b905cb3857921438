"""StreamBridge: a thread reads what the event loop feeds, bounded; abort makes it raise."""

from __future__ import annotations

import functools

import anyio
import pytest
from anyio.from_thread import BlockingPortal

from crownsafe.api._bridge import StreamBridge, UploadAbortedError


def _read_all(bridge: StreamBridge, size: int) -> bytes:
    out = b""
    while True:
        piece = bridge.read(size)
        if not piece:
            return out
        out += piece


def test_thread_reads_exactly_what_was_fed() -> None:
    chunks = [bytes([i]) * (1000 + i) for i in range(50)]

    async def main() -> bytes:
        async with BlockingPortal() as portal, anyio.create_task_group() as group:
            bridge = StreamBridge(portal, max_chunks=2)
            result: list[bytes] = []

            async def reader() -> None:
                result.append(await anyio.to_thread.run_sync(_read_all, bridge, 4096))

            group.start_soon(reader)
            for chunk in chunks:
                await bridge.feed(chunk)
            await bridge.finish()
        bridge.close()
        return result[0]

    assert anyio.run(main) == b"".join(chunks)


def test_abort_makes_the_reader_raise() -> None:
    async def main() -> None:
        async with BlockingPortal() as portal, anyio.create_task_group() as group:
            bridge = StreamBridge(portal)

            async def reader() -> None:
                with pytest.raises(UploadAbortedError, match="too large"):
                    await anyio.to_thread.run_sync(functools.partial(_read_all, bridge, 10_000))

            group.start_soon(reader)
            await bridge.feed(b"x" * 100)
            bridge.abort("too large")
        bridge.close()

    anyio.run(main)
