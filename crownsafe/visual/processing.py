"""Verify an image with Pillow, make a metadata-free thumbnail, compute a perceptual hash.

Pillow's decompression-bomb guard is applied with our own pixel limit and its warning is
turned into a rejection, so an image that claims huge dimensions is refused before its
pixels are decoded. Thumbnails are re-encoded from pixel data only: EXIF (GPS position,
camera serial), ICC profiles and text chunks of the upload never reach them.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import imagehash
from PIL import Image, UnidentifiedImageError

__all__ = [
    "THUMBNAIL_SIZE",
    "ImageRejectedError",
    "ProcessedImage",
    "VerifiedImage",
    "make_thumbnail",
    "perceptual_hash",
    "process_image_bytes",
    "verify_image",
]

THUMBNAIL_SIZE = (256, 256)
_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


class ImageRejectedError(ValueError):
    """The bytes are not an acceptable image; `reason` says why in words a user can act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class VerifiedImage:
    width: int
    height: int
    format: str
    content_type: str


def _open(data: bytes, max_pixels: int) -> Image.Image:
    previous = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            try:
                image = Image.open(io.BytesIO(data))
            except (Image.DecompressionBombError, Image.DecompressionBombWarning):
                raise ImageRejectedError(
                    f"the image has more than {max_pixels} pixels (decompression bomb limit)"
                ) from None
    except UnidentifiedImageError:
        raise ImageRejectedError("the bytes are not an image Pillow can read") from None
    finally:
        Image.MAX_IMAGE_PIXELS = previous
    if image.format not in _FORMATS:
        raise ImageRejectedError(f"{image.format} images are not accepted (JPEG, PNG, WebP)")
    if image.width * image.height > max_pixels:
        raise ImageRejectedError(f"the image has more than {max_pixels} pixels")
    return image


def verify_image(data: bytes, *, max_pixels: int) -> VerifiedImage:
    """Check that `data` is a whole, decodable JPEG/PNG/WebP within `max_pixels`."""
    image = _open(data, max_pixels)
    try:
        image.verify()
        image = _open(data, max_pixels)
        image.load()
    except ImageRejectedError:
        raise
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageRejectedError(f"the image is damaged or truncated ({exc})") from None
    fmt = str(image.format)
    return VerifiedImage(image.width, image.height, fmt.lower(), _FORMATS[fmt])


def make_thumbnail(data: bytes, *, max_pixels: int) -> bytes:
    """A JPEG of at most THUMBNAIL_SIZE built from the pixels only (no metadata copied)."""
    image = _open(data, max_pixels)
    image.thumbnail(THUMBNAIL_SIZE)
    rgb = image.convert("RGB")
    clean = Image.new("RGB", rgb.size)
    clean.paste(rgb)
    out = io.BytesIO()
    clean.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue()


def perceptual_hash(data: bytes, *, max_pixels: int) -> str:
    """The 64-bit pHash of the image as 16 hex digits (near-identical images differ in few bits)."""
    return str(imagehash.phash(_open(data, max_pixels)))


@dataclass(frozen=True)
class ProcessedImage:
    image: VerifiedImage
    thumbnail: bytes
    phash: str


def process_image_bytes(data: bytes, *, max_pixels: int) -> ProcessedImage:
    """Verify, thumbnail and hash `data`; every way the bytes can fail is an
    ImageRejectedError (bad input a user can act on), never an internal error: bytes that
    pass `verify()` and then fail to decode in full (a polyglot, a damaged scan) too."""
    image = verify_image(data, max_pixels=max_pixels)
    try:
        thumbnail = make_thumbnail(data, max_pixels=max_pixels)
        phash = perceptual_hash(data, max_pixels=max_pixels)
    except ImageRejectedError:
        raise
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageRejectedError(f"the image cannot be decoded ({exc})") from None
    return ProcessedImage(image, thumbnail, phash)
