"""Blocks of a stream of unknown length (`crownsafe.storage.azure._blocks`): in order, with
one id length, the stream's pieces sent as they are, and at most N blocks in flight."""

from __future__ import annotations

import itertools
import threading

import pytest

from crownsafe.correlation import correlation_scope, get_correlation_id
from crownsafe.storage._pieces import Pieces
from crownsafe.storage.azure._blocks import block_id, stage_blocks, stream_blocks


class Chunks:
    """A stream that hands out its chunks themselves, like the API's StreamBridge."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = list(chunks)
        self.reads = 0

    def read_pieces(self, size: int) -> list[bytes | memoryview]:
        self.reads += 1
        taken: list[bytes | memoryview] = []
        while size > 0 and self.chunks:
            chunk = self.chunks.pop(0)
            if len(chunk) > size:
                self.chunks.insert(0, chunk[size:])
                chunk = chunk[:size]
            taken.append(chunk)
            size -= len(chunk)
        return taken


def test_block_ids_have_one_length_and_follow_the_order() -> None:
    ids = [block_id(i) for i in (0, 9, 10, 12345)]
    assert len({len(i) for i in ids}) == 1
    assert ids == sorted(ids) and ids[0] == "crownsafe-0000000"


def test_stream_blocks_yield_full_blocks_then_the_short_last_one() -> None:
    chunks = [bytes([i]) * 300 for i in range(7)]
    stream = Chunks(chunks)
    first = stream.read_pieces(1000)
    blocks = list(stream_blocks(stream, 1000, first))
    assert [sum(map(len, block)) for block in blocks] == [1000, 1000, 100]
    assert blocks[0][0] is chunks[0]  # the stream's own chunk, not a copy
    assert b"".join(b"".join(block) for block in blocks) == b"".join(chunks)
    exact = Chunks([b"x" * 1000])
    assert [sum(map(len, b)) for b in stream_blocks(exact, 1000, exact.read_pieces(1000))] == [1000]


@pytest.mark.parametrize("concurrency", [1, 3])
def test_stage_blocks_sends_every_block_in_order_with_at_most_n_in_flight(
    concurrency: int,
) -> None:
    chunks = [bytes([i]) * 250 for i in range(20)]
    stream = Chunks(chunks)
    staged: dict[str, bytes] = {}
    lock = threading.Lock()
    active = [0, 0]
    threads: set[str] = set()
    correlation: set[str | None] = set()

    # the first `concurrency` blocks must be in flight together: they wait for each other
    # (a loop that sent fewer at once would break the barrier after its timeout)
    meet = threading.Barrier(concurrency) if concurrency > 1 else None
    started = itertools.count()

    def stage(block: str, body: Pieces, length: int) -> None:
        with lock:
            active[0] += 1
            active[1] = max(active[1], active[0])
            order = next(started)
        if meet is not None and order < concurrency:
            meet.wait(timeout=10)
        data = b"".join(body)
        assert len(data) == length
        with lock:
            staged[block] = data
            active[0] -= 1
            threads.add(threading.current_thread().name)
            correlation.add(get_correlation_id())

    with correlation_scope("cid-blocks"):
        ids = stage_blocks(
            stream_blocks(stream, 1000, stream.read_pieces(1000)), stage, concurrency
        )
    assert ids == [block_id(i) for i in range(5)]
    assert b"".join(staged[i] for i in ids) == b"".join(chunks)
    assert active[1] == concurrency
    assert correlation == {"cid-blocks"}
    if concurrency == 1:
        assert threads == {threading.current_thread().name}  # no pool for one in flight


def test_a_block_is_held_by_its_body_only_so_its_pieces_go_as_they_are_sent() -> None:
    stream = Chunks([b"q" * 500] * 4)
    first = stream.read_pieces(1000)
    left_in_first: list[int] = []

    def stage(block: str, body: Pieces, length: int) -> None:
        left_in_first.append(len(first))  # the list the generator was given
        b"".join(body)

    stage_blocks(stream_blocks(stream, 1000, first), stage, 1)
    assert left_in_first == [0, 0]


def test_a_failed_block_stops_the_upload() -> None:
    stream = Chunks([b"z" * 1000] * 6)
    sent: list[str] = []

    def stage(block: str, body: Pieces, length: int) -> None:
        sent.append(block)
        if block == block_id(1):
            raise OSError("connection reset")

    with pytest.raises(OSError, match="connection reset"):
        stage_blocks(stream_blocks(stream, 1000, stream.read_pieces(1000)), stage, 1)
    assert sent == [block_id(0), block_id(1)]
    assert stream.reads == 2  # nothing more was read from the stream
