"""Blocks of a non-seekable stream of unknown length, staged from the pieces it gave.

The SDK's `upload_blob` reads such a stream with `read(block_size)` (which joins the
stream's chunks into a new block: a copy of every byte into freshly mapped memory) and
runs a thread pool per upload even for one block in flight. Here a block is the stream's
own pieces (`crownsafe.storage._pieces.read_pieces`) sent as they are, and with one block
in flight the calling thread sends it: no pool, no hand-over per block. Block ids have
one length (the service requires it) and follow the upload's order.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from crownsafe.storage._pieces import Piece, Pieces, read_pieces, total_length

__all__ = ["block_id", "stage_blocks", "stream_blocks"]

StageBlock = Callable[[str, Pieces, int], object]
"""Stages one block: (block id, body, length); raises on failure."""


def block_id(index: int) -> str:
    """The id of the `index`-th block (0-based): one length for up to 10^7 blocks."""
    return f"crownsafe-{index:07d}"


def stream_blocks(stream: Any, block_size: int, first: list[Piece]) -> Iterator[list[Piece]]:
    """`first` (a full block already read), then the stream's further blocks of
    `block_size` bytes, the last shorter; none empty. The consumer may empty each list it
    takes (`stage_blocks` does): this generator keeps no other reference to the pieces,
    so they are freed as they are sent, not when the next block has been read."""
    block = first
    while block:
        full = total_length(block) >= block_size
        yield block
        if not full:
            return
        block = read_pieces(stream, block_size)


def stage_blocks(
    blocks: Iterator[list[Piece]], stage: StageBlock, max_concurrency: int
) -> list[str]:
    """Stage every block with at most `max_concurrency` in flight (the next block is read
    only when fewer are); return the ids in order. The first failure is raised once the
    blocks in flight have ended; the others are not sent."""
    ids: list[str] = []
    if max_concurrency <= 1:
        for block in blocks:
            ids.append(block_id(len(ids)))
            body = Pieces(block)
            block.clear()  # the pieces live on in `body` only, which lets go as it sends
            stage(ids[-1], body, len(body))
        return ids
    in_flight: set[Future[object]] = set()
    with ThreadPoolExecutor(max_concurrency, "crownsafe-azure-block") as pool:
        try:
            for block in blocks:
                ids.append(block_id(len(ids)))
                body = Pieces(block)
                block.clear()
                context = contextvars.copy_context()  # the correlation id, the deadline
                in_flight.add(pool.submit(context.run, stage, ids[-1], body, len(body)))
                del body
                if len(in_flight) >= max_concurrency:
                    done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                    for future in done:
                        future.result()
            for future in wait(in_flight).done:
                future.result()
        except BaseException:
            for future in in_flight:
                future.cancel()
            raise
    return ids
