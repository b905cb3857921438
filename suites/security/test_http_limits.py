"""What the server takes before the app sees a request: bounded heads, honest 405s.

Requests are written on a raw socket (httpx would refuse to send some of them), to the
app as the harness serves it (`crownsafe.api.server.BoundedHttpToolsProtocol`).
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest

from crownsafe.api.server import MAX_HEAD_BYTES, MAX_HEADERS
from harness.fixtures.api import ApiStack


def _exchange(stack: ApiStack, head: bytes) -> bytes:
    """Send one request head; the response's first 4 KiB (b"" if the server hung up)."""
    url = urlsplit(stack.url)
    with socket.create_connection((url.hostname or "127.0.0.1", url.port or 80), 30) as sock:
        sock.sendall(head)
        chunks = []
        while sum(map(len, chunks)) < 4096:
            chunk = sock.recv(4096)
            if not chunk:
                break
            chunks.append(chunk)
            if b"\r\n\r\n" in b"".join(chunks):
                break
        return b"".join(chunks)


def _get(path: str, fields: list[bytes]) -> bytes:
    lines = [f"GET {path} HTTP/1.1".encode(), b"Host: 127.0.0.1", *fields, b"", b""]
    return b"\r\n".join(lines)


@pytest.mark.parametrize(
    ("label", "head"),
    [
        ("one field past the size limit", _get("/health", [b"X-Big: " + b"a" * MAX_HEAD_BYTES])),
        ("one field more than the count limit",
         _get("/health", [b"X-F%d: v" % i for i in range(MAX_HEADERS)])),
        ("a URL past the size limit", _get("/health?" + "q" * MAX_HEAD_BYTES, [])),
    ],
)  # fmt: skip
def test_an_oversized_request_head_is_431(api_stack: ApiStack, label: str, head: bytes) -> None:
    """A request head past 32 KiB or 100 fields is answered 431 before the app runs."""
    response = _exchange(api_stack, head)
    assert response.startswith(b"HTTP/1.1 431 "), (label, response[:200])
    assert b"connection: close" in response.lower()


def test_a_head_within_the_limits_is_served(api_stack: ApiStack) -> None:
    """Just under both limits (the Host field counts): 200."""
    fields = [b"X-F%d: v" % i for i in range(MAX_HEADERS - 2)]
    fields.append(b"X-Big: " + b"a" * (MAX_HEAD_BYTES // 2))
    response = _exchange(api_stack, _get("/health", fields))
    assert response.startswith(b"HTTP/1.1 200 "), response[:200]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("OPTIONS", "/scans", "GET, POST"),
        ("PUT", "/scans", "GET, POST"),
        ("PATCH", "/uploads/00000000-0000-0000-0000-000000000000", "DELETE, GET"),
        ("GET", "/uploads", "POST"),
    ],
)
def test_a_405_names_every_method_of_the_path(
    api_stack: ApiStack, method: str, path: str, allowed: str
) -> None:
    """405's Allow lists every method the path takes, not only the first route's."""
    response = api_stack.client(user_id=9801).request(method, path)
    assert response.status_code == 405, response.text
    assert response.headers["allow"] == allowed
