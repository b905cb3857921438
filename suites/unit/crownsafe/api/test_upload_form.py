"""The multipart receiver's file target (python-multipart callbacks): which part is the
file, and that file data goes on as the network chunks themselves (no copies)."""

from __future__ import annotations

import httpx
import pytest
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser

from crownsafe.api._upload_stream import _FileTarget

BOUNDARY = b"b0undary"


def _body(*parts: tuple[str, bytes]) -> bytes:
    out = b""
    for name, data in parts:
        out += b"--" + BOUNDARY + b"\r\n"
        out += b'Content-Disposition: form-data; name="%s"; filename="x"\r\n' % name.encode()
        out += b"Content-Type: image/jpeg\r\n\r\n" + data + b"\r\n"
    return out + b"--" + BOUNDARY + b"--\r\n"


def _parse(body: bytes, chunk: int) -> tuple[_FileTarget, list[bytes], list[bytes]]:
    target = _FileTarget()
    parser = MultipartParser(BOUNDARY, target.callbacks())
    chunks = [body[i : i + chunk] for i in range(0, len(body), chunk)]
    taken: list[bytes] = []
    for piece in chunks:
        parser.write(piece)
        taken += target.take()
    return target, chunks, taken


def test_file_data_in_the_middle_of_the_body_is_the_chunks_themselves() -> None:
    data = bytes(range(256)) * 400
    target, chunks, taken = _parse(_body(("note", b"hi"), ("file", data)), 4096)
    assert target.started and target.finished
    assert b"".join(taken) == data
    middle = [piece for piece in taken if any(piece is chunk for chunk in chunks)]
    assert len(middle) >= len(taken) - 3  # all but the file's first and last pieces


@pytest.mark.parametrize("chunk", [1, 7, 100, 10**6])
def test_only_the_first_part_named_file_is_collected_whatever_the_chunking(chunk: int) -> None:
    body = _body(("files", b"not this"), ("file", b"\xff\xd8\xffone"), ("file", b"two"))
    target, _, taken = _parse(body, chunk)
    assert b"".join(taken) == b"\xff\xd8\xffone"
    assert target.finished


def test_a_form_without_a_file_part_never_starts() -> None:
    target, _, taken = _parse(_body(("note", b"hi"), ("xfile", b"no")), 5)
    assert not target.started and not target.finished and taken == []


def test_a_body_as_httpx_sends_it() -> None:
    request = httpx.Request("POST", "http://x/", files={"file": ("a.jpg", b"\xff" * 5000)})
    boundary = request.headers["content-type"].split("boundary=")[1].encode()
    target = _FileTarget()
    parser = MultipartParser(boundary, target.callbacks())
    parser.write(request.read())
    assert b"".join(target.take()) == b"\xff" * 5000 and target.finished


def test_malformed_framing_raises_the_parsers_error() -> None:
    target = _FileTarget()
    parser = MultipartParser(BOUNDARY, target.callbacks())
    with pytest.raises(FormParserError):
        parser.write(b"--b0undary\r\nno-colon-header-line\r\n\r\ndata")
