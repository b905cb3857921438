"""StreamBridge: a thread reads what the event loop feeds, bounded; abort makes it raise."""

from __future__ import annotations

import functools

import anyio
import pytest

from crownsafe.api._bridge import StreamBridge, UploadAbortedError


def _read_all(bridge: StreamBridge, size: int) -> bytes:
    out = b""
    while True:
        piece = bridge.read(size)
        if not piece:
            return out
        out += piece


def _readinto_all(bridge: StreamBridge, size: int) -> bytes:
    out = bytearray()
    buffer = bytearray(size)
    while count := bridge.readinto(buffer):
        out += buffer[:count]
    return bytes(out)


def _read1_all(bridge: StreamBridge, size: int) -> bytes:
    pieces = []
    while piece := bridge.read1(size):
        assert len(piece) <= size
        pieces.append(piece)
    return b"".join(pieces)


CHUNKS = [bytes([i]) * (1000 + i) for i in range(50)]


@pytest.mark.parametrize(
    "reader", [_read_all, _readinto_all, _read1_all], ids=["read", "readinto", "read1"]
)
@pytest.mark.parametrize("size", [1, 700, 4096, 10**6])
def test_thread_reads_exactly_what_was_fed(reader: object, size: int) -> None:
    async def main() -> bytes:
        async with anyio.create_task_group() as group:
            bridge = StreamBridge(high_water=2000, min_read=1500)
            result: list[bytes] = []

            async def read() -> None:
                call = functools.partial(reader, bridge, size)  # type: ignore[call-overload]
                result.append(await anyio.to_thread.run_sync(call))

            group.start_soon(read)
            for chunk in CHUNKS:
                await bridge.feed(chunk)
            await bridge.finish()
        bridge.close()
        return result[0]

    assert anyio.run(main) == b"".join(CHUNKS)


def test_read_returns_the_requested_size_until_the_end() -> None:
    async def main() -> list[int]:
        async with anyio.create_task_group() as group:
            bridge = StreamBridge(high_water=100)
            sizes: list[int] = []

            def reads() -> None:
                while piece := bridge.read(3000):
                    sizes.append(len(piece))

            group.start_soon(anyio.to_thread.run_sync, reads)
            for _ in range(25):
                await bridge.feed(b"x" * 401)
            await bridge.finish()
        return sizes

    assert anyio.run(main) == [3000, 3000, 3000, 1025]


def test_feed_waits_while_the_buffer_is_full() -> None:
    """Back-pressure: with nobody reading, feed does not return past the high-water mark."""

    async def main() -> tuple[list[int], list[int], bytes]:
        bridge = StreamBridge(high_water=1000)
        fed: list[int] = []

        async def feeder() -> None:
            for i in range(3):
                await bridge.feed(bytes([i]) * 400)
                fed.append(i)

        async with anyio.create_task_group() as group:
            group.start_soon(feeder)
            await anyio.wait_all_tasks_blocked()
            before = list(fed)
            data = await anyio.to_thread.run_sync(bridge.read, 1200)
        return before, fed, data

    before, after, data = anyio.run(main)
    assert before == [0, 1], "the third chunk passes the mark, so its feed waits"
    assert after == [0, 1, 2], "taking data releases the waiting feed"
    assert data == b"\x00" * 400 + b"\x01" * 400 + b"\x02" * 400


def test_abort_makes_the_reader_raise() -> None:
    async def main() -> None:
        async with anyio.create_task_group() as group:
            bridge = StreamBridge()

            async def reader() -> None:
                with pytest.raises(UploadAbortedError, match="too large"):
                    await anyio.to_thread.run_sync(functools.partial(_read_all, bridge, 10_000))

            group.start_soon(reader)
            await bridge.feed(b"x" * 100)
            bridge.abort("too large")
        bridge.close()

    anyio.run(main)


def test_abort_releases_a_waiting_feed() -> None:
    async def main() -> None:
        bridge = StreamBridge(high_water=10)
        with anyio.fail_after(5):
            async with anyio.create_task_group() as group:
                group.start_soon(bridge.feed, b"x" * 100)
                await anyio.wait_all_tasks_blocked()
                bridge.abort("client went away")
        with pytest.raises(UploadAbortedError):
            bridge.read(1)

    anyio.run(main)


def test_bad_limits_are_refused() -> None:
    async def main() -> None:
        with pytest.raises(ValueError, match="positive"):
            StreamBridge(high_water=0)

    anyio.run(main)


def test_read1_hands_out_the_fed_chunks_themselves() -> None:
    """No join and no copy: the bytes objects that were fed (S3's streamed body sends them
    as they are); a smaller `size` splits one."""

    async def main() -> list[bytes]:
        bridge = StreamBridge(high_water=10**6, min_read=1)
        for chunk in CHUNKS[:3]:
            await bridge.feed(chunk)
        await bridge.finish()
        got = [bridge.read1(10**6), bridge.read1(10), bridge.read1(10**6), bridge.read1(10**6)]
        got.append(bridge.read1(10**6))
        bridge.close()
        return got

    first, head, rest, third, end = anyio.run(main)
    assert first is CHUNKS[0]
    assert (head, rest) == (CHUNKS[1][:10], CHUNKS[1][10:])
    assert third is CHUNKS[2]
    assert end == b""


def test_read_pieces_waits_for_the_size_and_hands_out_the_fed_chunks() -> None:
    """A block of a stream of unknown length: `size` bytes as the chunks themselves (the
    last one split), never joined; one wake-up for the whole block."""

    async def main() -> tuple[list[bytes | memoryview], list[bytes | memoryview], bytes]:
        async with anyio.create_task_group() as group:
            bridge = StreamBridge(high_water=10**6, min_read=1)
            taken: list[list[bytes | memoryview]] = []

            async def read() -> None:
                call = functools.partial(bridge.read_pieces, 2500)
                taken.append(await anyio.to_thread.run_sync(call))
                taken.append(await anyio.to_thread.run_sync(call))

            group.start_soon(read)
            for chunk in CHUNKS[:6]:
                await bridge.feed(chunk)
            await bridge.finish()
        rest = bridge.read(-1)
        bridge.close()
        return taken[0], taken[1], rest

    first, second, rest = anyio.run(main)
    assert first[0] is CHUNKS[0] and first[1] is CHUNKS[1]
    assert bytes(first[2]) == CHUNKS[2][: 2500 - len(CHUNKS[0]) - len(CHUNKS[1])]
    assert sum(map(len, first)) == 2500 and sum(map(len, second)) == 2500
    assert b"".join(first + second) + rest == b"".join(CHUNKS[:6])
    assert len(rest) == sum(map(len, CHUNKS[:6])) - 5000


def test_a_block_reader_lets_the_loop_buffer_the_next_block_while_it_sends() -> None:
    """After `read_pieces(n)` the loop may run up to n bytes ahead (the next block), not
    only `high_water`: receiving and sending overlap; beyond that, feed waits again."""

    async def main() -> tuple[list[int], list[int]]:
        bridge = StreamBridge(high_water=100, min_read=1)
        fed: list[int] = []

        async def feeder(count: int) -> None:
            for _ in range(count):
                await bridge.feed(b"b" * 100)
                fed.append(len(fed))

        async with anyio.create_task_group() as group:
            group.start_soon(feeder, 10)
            await anyio.wait_all_tasks_blocked()
            plain = list(fed)  # high_water 100: the first chunk already waits
            await anyio.to_thread.run_sync(bridge.read_pieces, 300)  # a 300-byte block
            await anyio.wait_all_tasks_blocked()
            ahead = list(fed)
            bridge.abort("done")
        bridge.close()
        return plain, ahead

    plain, ahead = anyio.run(main)
    assert plain == []
    # high_water alone would stop at [0, 1, 2] (100 bytes buffered): a block is 300
    assert ahead == [0, 1, 2, 3, 4], "the next block (300 bytes) is buffered, then it waits"
