"""The type of an uploaded image, decided by its first bytes only.

A client's file name and Content-Type are claims; the magic bytes are what Pillow will
actually decode. Only the three formats the product accepts are recognised.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ACCEPTED", "SNIFF_BYTES", "ImageKind", "sniff_image_type"]

SNIFF_BYTES = 12
"""How many leading bytes `sniff_image_type` needs (WebP's RIFF header is 12 bytes)."""


@dataclass(frozen=True)
class ImageKind:
    """One accepted image format: its name, MIME type and file extension."""

    name: str
    content_type: str
    extension: str


JPEG = ImageKind("jpeg", "image/jpeg", "jpg")
PNG = ImageKind("png", "image/png", "png")
WEBP = ImageKind("webp", "image/webp", "webp")
ACCEPTED = (JPEG, PNG, WEBP)


def sniff_image_type(head: bytes) -> ImageKind | None:
    """The accepted format whose signature `head` starts with, else None."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if len(head) >= SNIFF_BYTES and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    return None
