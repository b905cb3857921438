"""Unit tests of the async clients' block reader and bounded sender (pure logic)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator

import pytest

from crownsafe.errors import (
    NonRetryableUploadError,
    StorageUnavailableError,
    UploadLengthMismatchError,
)
from crownsafe.storage._async_stream import Blocks, is_streamed_source, send_bounded, unretryable


async def chunks(*sizes: int) -> AsyncIterator[bytes]:
    for index, size in enumerate(sizes):
        yield bytes([index]) * size


async def all_blocks(blocks: Blocks) -> list[bytes]:
    out: list[bytes] = []
    while (block := await blocks.next()) is not None:
        out.append(block)
    return out


def test_blocks_are_exact_size_whatever_the_chunks() -> None:
    blocks = Blocks(chunks(3, 5, 1, 7), 4, length=None, backend="s3", blob_name="b")
    got = asyncio.run(all_blocks(blocks))
    assert [len(b) for b in got] == [4, 4, 4, 4]
    assert b"".join(got) == b"\x00" * 3 + b"\x01" * 5 + b"\x02" + b"\x03" * 7
    assert blocks.consumed == 16


def test_blocks_read_a_sync_non_seekable_stream() -> None:
    blocks = Blocks(io.BytesIO(b"abcdefghij"), 4, length=10, backend="azure", blob_name="b")
    assert asyncio.run(all_blocks(blocks)) == [b"abcd", b"efgh", b"ij"]


@pytest.mark.parametrize(
    ("sizes", "length", "what"),
    [((4, 4), 9, "ended after 8 bytes"), ((4, 5), 8, "more bytes"), ((8, 1), 8, "more bytes")],
    ids=["short", "long-in-a-block", "long-after-the-last-byte"],
)
def test_declared_length_is_enforced(sizes: tuple[int, ...], length: int, what: str) -> None:
    blocks = Blocks(chunks(*sizes), 8, length=length, backend="s3", blob_name="b")
    with pytest.raises(UploadLengthMismatchError, match=what) as caught:
        asyncio.run(all_blocks(blocks))
    assert caught.value.blob_name == "b" and caught.value.backend == "s3"


def test_exact_length_ends_without_waiting_for_more_blocks() -> None:
    """The last declared byte is in: one more read must find the end (then no block)."""
    blocks = Blocks(chunks(8), 8, length=8, backend="s3", blob_name="b")
    assert asyncio.run(all_blocks(blocks)) == [b"\x00" * 8]


def test_send_bounded_keeps_order_and_bound() -> None:
    in_flight = peak = 0

    async def send(number: int, block: bytes) -> int:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        in_flight -= 1
        return number * 100 + len(block)

    blocks = Blocks(chunks(*([3] * 10)), 3, length=None, backend="s3", blob_name="b")
    result = asyncio.run(send_bounded(blocks, send, 3, first=[b"xy"]))
    assert result == [102] + [n * 100 + 3 for n in range(2, 12)]
    assert peak == 3


def test_send_bounded_cancels_the_rest_on_failure() -> None:
    cancelled: list[int] = []

    async def send(number: int, block: bytes) -> int:
        try:
            if number == 2:
                raise StorageUnavailableError("boom", backend="s3")
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.append(number)
            raise
        return number

    blocks = Blocks(chunks(*([1] * 3)), 1, length=None, backend="s3", blob_name="b")
    with pytest.raises(StorageUnavailableError):
        asyncio.run(send_bounded(blocks, send, 4))
    assert sorted(cancelled) == [1, 3]


def test_unretryable_only_after_bytes_were_read_and_only_for_transient_errors() -> None:
    error = StorageUnavailableError("cut", backend="s3", status=503)
    assert unretryable(error, 0, "b") is error
    replaced = unretryable(error, 10, "b")
    assert isinstance(replaced, NonRetryableUploadError) and replaced.__cause__ is error
    mismatch = UploadLengthMismatchError("short", backend="s3")
    assert unretryable(mismatch, 10, "b") is mismatch


def test_streamed_sources() -> None:
    class NoSeek(io.RawIOBase):
        def seekable(self) -> bool:
            return False

    assert is_streamed_source(chunks(1))
    assert is_streamed_source(NoSeek())
    assert not is_streamed_source(io.BytesIO(b"x"))
    assert not is_streamed_source(b"x")
