"""The upload size limit is enforced while streaming: the server stops reading.

A raw socket client declares (or, chunked, just sends) a 50 MB body in 64 KiB pieces and
watches for the answer after each piece. The server answers 413 after far fewer bytes
than the body holds and nothing is stored.
"""

from __future__ import annotations

from harness.fixtures.api import ApiStack

from .helpers import assert_error, large_jpeg, send_until_answered, upload

MB = 1024 * 1024


def test_declared_length_over_the_limit_is_refused_before_reading(api_stack: ApiStack) -> None:
    """Content-Length says 50 MB: 413 arrives while the client has sent a small part."""
    sent, response = send_until_answered(api_stack, 801, chunked=False)
    assert response.startswith(b"HTTP/1.1 413"), response[:200]
    assert sent < 5 * MB, f"the server read {sent} bytes of a body it should have refused"
    assert api_stack.storage.list_blobs(prefix="uploads/801/") == []


def test_chunked_body_is_counted_and_cut_at_the_limit(api_stack: ApiStack) -> None:
    """No Content-Length: the server counts and answers 413 soon after 10 MB, not at 50."""
    sent, response = send_until_answered(api_stack, 802, chunked=True)
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
