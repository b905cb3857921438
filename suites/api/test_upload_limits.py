"""The upload size limit is enforced while streaming: the server stops reading.

A raw socket client declares (or, chunked, just sends) a 50 MB body in 64 KiB pieces and
watches for the answer after each piece. The server answers 413 after far fewer bytes
than the body holds and nothing is stored.
"""

from __future__ import annotations

import select
import socket
from urllib.parse import urlsplit

from harness.fixtures.api import ApiStack

from .helpers import assert_error, large_jpeg, read_response, upload

MB = 1024 * 1024
DECLARED = 50 * MB
PIECE = 64 * 1024
BOUNDARY = "crownsafe-limit-test"


def _head(stack: ApiStack, user: int, *, chunked: bool) -> bytes:
    host = urlsplit(stack.url).netloc
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {DECLARED}"
    return (
        f"POST /uploads HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: Bearer {stack.token(user)}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n{framing}\r\n\r\n"
    ).encode()


def _part_head() -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode() + b"\xff\xd8\xff\xe0"


def _send_until_answered(stack: ApiStack, user: int, *, chunked: bool) -> tuple[int, bytes]:
    """Send the body piece by piece; return (body bytes sent, the response)."""
    parts = urlsplit(stack.url)
    sent = 0
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(_head(stack, user, chunked=chunked))
        first = _part_head()
        while sent < DECLARED:
            piece = first or b"\x00" * PIECE
            first = b""
            wire = f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            try:
                sock.sendall(wire)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(piece)
        sock.settimeout(30)
        response = read_response(sock)
    return sent, response


def test_declared_length_over_the_limit_is_refused_before_reading(api_stack: ApiStack) -> None:
    """Content-Length says 50 MB: 413 arrives while the client has sent a small part."""
    sent, response = _send_until_answered(api_stack, 801, chunked=False)
    assert response.startswith(b"HTTP/1.1 413"), response[:200]
    assert sent < 5 * MB, f"the server read {sent} bytes of a body it should have refused"
    assert api_stack.storage.list_blobs(prefix="uploads/801/") == []


def test_chunked_body_is_counted_and_cut_at_the_limit(api_stack: ApiStack) -> None:
    """No Content-Length: the server counts and answers 413 soon after 10 MB, not at 50."""
    sent, response = _send_until_answered(api_stack, 802, chunked=True)
    assert response.startswith(b"HTTP/1.1 413"), response[:200]
    assert 10 * MB <= sent < 25 * MB, f"413 after {sent} bytes of a 50 MB body"
    assert api_stack.storage.list_blobs(prefix="uploads/802/") == []


def test_exactly_at_the_limit_is_accepted_and_one_byte_more_is_not(api_stack: ApiStack) -> None:
    """The limit (10 MiB by default) is inclusive."""
    client = api_stack.client(user_id=803)
    limit = 10 * MB
    accepted = upload(client, large_jpeg(limit))
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["size_bytes"] == limit
    assert_error(upload(client, large_jpeg(limit + 1)), 413, "payload_too_large")
    assert [b.size for b in api_stack.storage.list_blobs(prefix="uploads/803/")] == [limit]
