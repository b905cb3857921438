"""Magic-byte sniffing, URL forms of the visual search, Hamming distance and ranking."""

from __future__ import annotations

import pytest

from crownsafe.storage.urls import InvalidBlobUrlError
from crownsafe.visual import (
    _is_azure_blob_url,
    _is_s3_url,
    hamming_distance,
    nearest_images,
    resolve_image_url,
    sniff_image_type,
)


@pytest.mark.parametrize(
    "head,kind",
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01", "jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\r", "png"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "webp"),
        (b"GIF89a\x01\x00\x01\x00\x00\x00", None),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", None),
        (b"\xff\xd8", None),
        (b"", None),
    ],
)
def test_sniff(head: bytes, kind: str | None) -> None:
    found = sniff_image_type(head)
    assert (found.name if found else None) == kind


@pytest.mark.parametrize(
    "url,azure,s3",
    [
        ("blob://crownsafe-images/uploads/1/a.jpg", True, False),
        ("https://acct.blob.core.windows.net/crownsafe-images/uploads/1/a.jpg", True, False),
        ("http://127.0.0.1:10000/devstoreaccount1/crownsafe-images/uploads/1/a.jpg", True, False),
        ("https://old-bucket.s3.us-east-1.amazonaws.com/uploads/1/a.jpg", False, True),
        ("s3://old-bucket/uploads/1/a.jpg", False, True),
        ("https://example.com/uploads/1/a.jpg", False, False),
    ],
)
def test_url_forms(url: str, azure: bool, s3: bool) -> None:
    assert (_is_azure_blob_url(url), _is_s3_url(url)) == (azure, s3)
    if azure or s3:
        assert resolve_image_url(url) == "uploads/1/a.jpg"
    else:
        with pytest.raises(InvalidBlobUrlError):
            resolve_image_url(url)


def test_hamming_and_ranking() -> None:
    assert hamming_distance("ff00", "ff01") == 1
    assert hamming_distance("0000000000000000", "ffffffffffffffff") == 64
    with pytest.raises(ValueError):
        hamming_distance("ff", "ffff")
    ranked = nearest_images(
        "0000", [("b", "0003"), ("a", "0003"), ("c", "0001"), ("d", "ffff"), ("e", "")], limit=3,
        max_distance=8,
    )  # fmt: skip
    assert [(m.key, m.distance) for m in ranked] == [("c", 1), ("a", 2), ("b", 2)]
