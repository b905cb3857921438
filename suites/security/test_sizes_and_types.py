"""Bodies too large or of the wrong type are refused before anything is stored."""

from __future__ import annotations

from harness.fixtures.api import ApiStack

from .helpers import IMAGES, assert_typed, leftovers, small_jpeg, stored

MB = 1024 * 1024


def _jpeg_of(size: int) -> bytes:
    data = small_jpeg()
    return data + b"\x00" * (size - len(data))


def test_oversized_uploads_are_413_and_store_nothing(api_stack: ApiStack) -> None:
    """One byte over the upload limit, as multipart or as a raw body: 413, nothing stored."""
    user = 9111
    client = api_stack.client(user_id=user)
    limit = api_stack.settings.upload_max_bytes
    body = _jpeg_of(limit + 1)
    before = stored(api_stack)
    multipart = client.post("/uploads", files={"file": ("big.jpg", body, "image/jpeg")})
    assert_typed(multipart, 413, "payload_too_large")
    raw = client.post("/uploads", content=body, headers={"Content-Type": "image/jpeg"})
    assert_typed(raw, 413, "payload_too_large")
    assert stored(api_stack) == before
    assert leftovers(api_stack, f"uploads/{user}/") == [], "not even staged blocks"


def test_wrong_content_type_is_415_and_stores_nothing(api_stack: ApiStack) -> None:
    """A body that is not an image by its header or by its bytes: 415, nothing stored."""
    user = 9112
    client = api_stack.client(user_id=user)
    before = stored(api_stack)
    for content_type, data in (
        ("text/plain", small_jpeg()),
        ("application/json", b'{"file": "x"}'),
        ("application/x-php", b"<?php system($_GET['c']); ?>"),
        ("text/html", b"<script>alert(1)</script>"),
        ("image/jpeg", (IMAGES / "gif.gif").read_bytes()),
        ("image/png", b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
    ):
        response = client.post("/uploads", content=data, headers={"Content-Type": content_type})
        assert_typed(response, 415, "unsupported_media_type")
    polyglot = client.post(
        "/uploads", files={"file": ("x.jpg", b"GIF89a<script>1</script>", "image/jpeg")}
    )
    assert_typed(polyglot, 415, "unsupported_media_type")
    assert stored(api_stack) == before
