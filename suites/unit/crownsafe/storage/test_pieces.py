"""Upload bodies of a stream's own pieces (`crownsafe.storage._pieces`): what each kind of
stream gives as pieces, and how a body of pieces is sent (iterated, or read with read1)."""

from __future__ import annotations

import io

import pytest

from crownsafe.storage._pieces import Pieces, StreamedPieces, read_pieces


class _Read1Only:
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = list(chunks)

    def read1(self, size: int = -1, /) -> bytes:
        if not self.chunks:
            return b""
        chunk = self.chunks.pop(0)
        if 0 <= size < len(chunk):
            self.chunks.insert(0, chunk[size:])
            chunk = chunk[:size]
        return chunk


def test_read_pieces_prefers_the_streams_own_then_one_readinto_buffer_then_read1() -> None:
    class Own:
        def read_pieces(self, size: int) -> list[bytes]:
            return [b"a" * size]

    assert read_pieces(Own(), 3) == [b"aaa"]
    (filled,) = read_pieces(io.BufferedReader(io.BytesIO(b"0123456789")), 6)  # type: ignore[arg-type]
    assert isinstance(filled, memoryview) and bytes(filled) == b"012345"
    chunks = [b"xy", b"zzz", b"w"]
    pieces = read_pieces(_Read1Only(chunks), 4)
    assert pieces[0] is chunks[0] and pieces[1] == b"zz"
    assert read_pieces(_Read1Only([]), 4) == [] and read_pieces(_Read1Only([b"x"]), 0) == []


def test_pieces_are_sent_as_they_are_and_let_go_once_handed_out() -> None:
    chunks = [b"abc", b"", bytearray(b"de"), memoryview(b"fgh")]
    body = Pieces(chunks)
    assert len(body) == 8
    assert not hasattr(body, "read")  # urllib3 would read a file-like body in 16 KiB copies
    sent = list(body)
    assert sent[0] is chunks[0] and sent[1] is chunks[2] and len(sent) == 3
    assert list(body) == []


def test_pieces_read1_splits_a_piece_without_copying() -> None:
    data = b"0123456789"
    body = Pieces([data, b"ab"])
    head = body.read1(4)
    assert isinstance(head, memoryview) and head.obj is data and bytes(head) == b"0123"
    assert bytes(body.read1(100)) == b"456789"
    assert body.read1() == b"ab" and body.read1() == b""


def test_streamed_pieces_pull_exactly_the_length_while_sent() -> None:
    chunks = [b"a" * 5, b"b" * 5, b"c" * 5]
    body = StreamedPieces(_Read1Only(chunks), 12)  # type: ignore[arg-type]
    assert len(body) == 12
    assert b"".join(body) == b"a" * 5 + b"b" * 5 + b"cc"
    short = StreamedPieces(_Read1Only([b"x" * 3]), 5)  # type: ignore[arg-type]
    with pytest.raises(EOFError, match="2 bytes early"):
        list(short)
