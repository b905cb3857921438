"""`ExactLengthReader`: exactly `length` bytes of a non-seekable stream, or a typed error."""

from __future__ import annotations

import io
from typing import Any, BinaryIO, cast

import pytest

from crownsafe.errors import UploadLengthMismatchError
from crownsafe.storage._guards import ExactLengthReader


class OneWay(io.RawIOBase):
    def __init__(self, data: bytes, piece: int = 3) -> None:
        self._data = data
        self._piece = piece

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = min(len(buffer), self._piece, len(self._data))
        buffer[:count] = self._data[:count]
        self._data = self._data[count:]
        return count


def _reader(data: bytes, length: int) -> ExactLengthReader:
    return ExactLengthReader(cast(BinaryIO, OneWay(data)), length, backend="s3", blob_name="b")


def _drain(reader: ExactLengthReader, size: int = 4) -> bytes:
    out = b""
    while piece := reader.read(size):
        out += piece
    return out


def test_exact_stream_reads_through() -> None:
    reader = _reader(b"abcdefghij", 10)
    assert _drain(reader) == b"abcdefghij"
    assert reader.consumed == 10 and reader.failure is None


def test_readinto_stops_at_length() -> None:
    reader = _reader(b"abcdef", 6)
    buffer = bytearray(100)
    total = 0
    while count := reader.readinto(memoryview(buffer)[total:]):
        total += count
    assert bytes(buffer[:total]) == b"abcdef"


def test_short_stream_raises_and_keeps_the_failure() -> None:
    reader = _reader(b"abc", 5)
    with pytest.raises(UploadLengthMismatchError, match="ended after 3 bytes") as caught:
        _drain(reader)
    assert reader.failure is caught.value
    assert caught.value.blob_name == "b" and caught.value.backend == "s3"
    with pytest.raises(UploadLengthMismatchError):  # every later read raises it again
        reader.read(1)


def test_long_stream_raises_before_the_last_bytes_are_handed_out() -> None:
    reader = _reader(b"abcdefg", 6)
    handed = b""
    with pytest.raises(UploadLengthMismatchError, match="more bytes"):
        while piece := reader.read(3):
            handed += piece
    assert handed == b"abc", "the final piece must not reach the request"


def test_zero_length() -> None:
    _reader(b"", 0).check_empty()
    with pytest.raises(UploadLengthMismatchError):
        _reader(b"x", 0).check_empty()


def test_stream_errors_are_kept() -> None:
    class Broken(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            raise RuntimeError("gone")

    reader = ExactLengthReader(cast(BinaryIO, Broken()), 4, backend="azure", blob_name="b")
    with pytest.raises(RuntimeError):
        reader.read(4)
    assert isinstance(reader.failure, RuntimeError)


def test_negative_length_is_refused() -> None:
    with pytest.raises(ValueError):
        _reader(b"", -1)
