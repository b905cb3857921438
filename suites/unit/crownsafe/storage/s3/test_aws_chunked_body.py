"""AwsChunkedBody: crownsafe's own aws-chunked framing of a streamed S3 body (fixed-size
chunks, CRC32 trailer), whose length is known before it is sent."""

from __future__ import annotations

import base64
import io
import zlib
from typing import Any

import pytest

from crownsafe.storage._pieces import Pieces
from crownsafe.storage.s3._streaming import AwsChunkedBody
from crownsafe.storage.s3._transport import Crc32Reader

NAME = "x-amz-checksum-crc32"


def _decode(wire: bytes) -> tuple[bytes, dict[str, str], list[int]]:
    """The data, the trailer and the chunk sizes of an aws-chunked body."""
    data, sizes, rest = b"", [], wire
    while True:
        line, _, rest = rest.partition(b"\r\n")
        size = int(line, 16)
        if size == 0:
            break
        sizes.append(size)
        data, rest = data + rest[:size], rest[size:]
        assert rest[:2] == b"\r\n"
        rest = rest[2:]
    trailer, _, end = rest.partition(b"\r\n")
    assert end == b"\r\n"
    name, _, value = trailer.decode().partition(":")
    return data, {name: value}, sizes


class _Pieces(io.RawIOBase):
    """A stream whose `read1` gives odd-sized pieces (as network chunks come)."""

    def __init__(self, data: bytes, piece: int) -> None:
        self._data, self._piece, self._at = data, piece, 0

    def read1(self, size: int = -1, /) -> bytes:
        end = min(len(self._data), self._at + min(size, self._piece))
        out, self._at = self._data[self._at : end], end
        return out


@pytest.mark.parametrize("length", [0, 1, 1000, 4096, 4097, 3 * 4096 + 5])
def test_the_wire_is_the_data_in_fixed_chunks_with_its_crc32_and_the_announced_length(
    length: int,
) -> None:
    data = bytes(range(256)) * (length // 256 + 1)
    data = data[:length]
    reader = Crc32Reader(_Pieces(data, 700))  # type: ignore[arg-type]
    body = AwsChunkedBody(reader, length, NAME, chunk_bytes=4096)
    wire = b"".join(bytes(piece) for piece in body)
    assert len(wire) == body.encoded_length
    decoded, trailer, sizes = _decode(wire)
    assert decoded == data
    assert sizes == [4096] * (length // 4096) + ([length % 4096] if length % 4096 else [])
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    assert trailer == {NAME: crc}


def test_a_part_of_pieces_in_memory_is_framed_without_a_read() -> None:
    """A part of a non-seekable stream is its pieces (`Pieces`, which has no `read`): the
    CRC32 reader and the framing take them with `read1`, views of them across chunks."""
    chunks = [bytes([i]) * 3000 for i in range(5)]
    reader = Crc32Reader(Pieces(chunks))  # type: ignore[arg-type]
    body = AwsChunkedBody(reader, 15000, NAME, chunk_bytes=4096)
    decoded, trailer, sizes = _decode(b"".join(bytes(piece) for piece in body))
    assert decoded == b"".join(chunks) and sizes == [4096, 4096, 4096, 2712]
    assert trailer == {NAME: base64.b64encode(zlib.crc32(decoded).to_bytes(4, "big")).decode()}


def test_a_stream_that_ends_early_raises_instead_of_sending_a_short_chunk() -> None:
    body = AwsChunkedBody(Crc32Reader(_Pieces(b"x" * 10, 4)), 20, NAME)  # type: ignore[arg-type]
    with pytest.raises(EOFError, match="10 bytes early"):
        b"".join(bytes(piece) for piece in body)


def test_a_negative_length_is_refused() -> None:
    with pytest.raises(ValueError, match="length must be >= 0"):
        AwsChunkedBody(Crc32Reader(io.BytesIO()), -1, NAME)


def test_a_streamed_put_goes_with_our_framing_and_a_content_length() -> None:
    """The botocore hooks (`prepare`) swap botocore's chunked wrapper for AwsChunkedBody:
    the request leaves with a Content-Length (the encoded length), no Transfer-Encoding,
    the trailer headers botocore set, and a body that decodes to the data and its CRC32.
    (Captured at `before-send`; nothing goes over the network.)"""
    import boto3
    from botocore.awsrequest import AWSResponse
    from botocore.config import Config

    from crownsafe.storage.s3._streaming import prepare, streaming_config

    config = streaming_config(
        Config(signature_version="s3v4", retries={"total_max_attempts": 1}), path_style=True
    )
    client = prepare(
        boto3.client(
            "s3",
            endpoint_url="http://127.0.0.1:9",
            region_name="us-east-1",
            aws_access_key_id="k",
            aws_secret_access_key="s",
            config=config,
        )
    )
    sent: list[Any] = []

    def capture(request: Any, **_: Any) -> AWSResponse:
        sent.append(request)
        return AWSResponse(request.url, 200, {"ETag": '"e"'}, _Raw())

    client.meta.events.register("before-send.s3.PutObject", capture)
    data = bytes(range(256)) * 8192 + b"tail"  # 2 MiB and 4 bytes: three chunks
    client.put_object(
        Bucket="b", Key="k", Body=Crc32Reader(_Pieces(data, 65536)),  # type: ignore[arg-type]
        ContentLength=len(data), ChecksumAlgorithm="CRC32",
    )  # fmt: skip
    (request,) = sent
    assert isinstance(request.body, AwsChunkedBody)
    assert "Transfer-Encoding" not in request.headers
    wire = b"".join(bytes(piece) for piece in request.body)
    headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
    assert int(headers["Content-Length"]) == len(wire)
    assert headers["X-Amz-Decoded-Content-Length"] == str(len(data))
    assert headers["Content-Encoding"] == "aws-chunked"
    decoded, trailer, sizes = _decode(wire)
    assert decoded == data and sizes == [2**20, 2**20, 4]
    assert trailer == {NAME: base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()}


class _Raw:
    """The raw response botocore reads an empty 200 from."""

    def stream(self, **_: Any) -> Any:
        return iter([b""])

    def read(self, *_: Any) -> bytes:
        return b""
