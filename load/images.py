"""The uploader's image mix: fixture images plus two generated phone-camera-sized photos.

`fixtures/images` (made by fixtures/images/make_images.py) has small and medium images
of each accepted type (JPEG, PNG, WebP; 0.5 KB to 45 KB). Real uploads are mostly
phone photos of a product label, so the mix adds two real JPEGs made here,
deterministically (seeded noise over a drawn scene, so they do not compress to nothing):
about 2 MP (~0.5-1 MB) and 6 MP (~2-3 MB). All are valid images that the worker
processes to `completed`. Weights are the share of uploads of each file.
"""

from __future__ import annotations

import functools
import io
import random
from dataclasses import dataclass
from pathlib import Path

__all__ = ["FIXTURE_DIR", "MIX", "UploadImage", "image_mix"]

FIXTURE_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "images"

MIX: tuple[tuple[str, int], ...] = (
    ("small.jpg", 10),
    ("small.png", 5),
    ("small.webp", 5),
    ("medium.png", 10),
    ("medium.jpg", 30),
    ("pattern_a_variant.jpg", 10),
    ("photo_1600x1200.jpg", 20),
    ("photo_3000x2000.jpg", 10),
)
"""(file, weight): a third small or thumbnail-like, a third medium, a third photo-sized."""

_CONTENT_TYPES = {".jpg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}


@dataclass(frozen=True)
class UploadImage:
    name: str
    data: bytes
    weight: int

    @property
    def content_type(self) -> str:
        return _CONTENT_TYPES[Path(self.name).suffix]


def _photo(width: int, height: int, seed: int) -> bytes:
    from PIL import Image, ImageDraw, ImageFilter

    rng = random.Random(seed)
    scene = Image.new("RGB", (width, height), (235, 230, 220))
    draw = ImageDraw.Draw(scene)
    for _ in range(40):
        x, y = rng.randrange(width), rng.randrange(height)
        w, h = rng.randrange(width // 8, width // 2), rng.randrange(height // 8, height // 2)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.rectangle([x, y, x + w, y + h], fill=colour)
    scene = scene.filter(ImageFilter.GaussianBlur(3))
    noise = Image.frombytes("L", (width, height), rng.randbytes(width * height))
    scene = Image.blend(scene, Image.merge("RGB", (noise, noise, noise)), 0.12)
    out = io.BytesIO()
    scene.save(out, format="JPEG", quality=88)
    return out.getvalue()


def _bytes(name: str) -> bytes:
    if name.startswith("photo_"):
        width, height = (int(n) for n in Path(name).stem.removeprefix("photo_").split("x"))
        return _photo(width, height, seed=width * height)
    path = FIXTURE_DIR / name
    try:
        return path.read_bytes()
    except OSError as exc:
        raise FileNotFoundError(
            f"upload image {path} is missing ({type(exc).__name__}); regenerate the fixture "
            "images with `python fixtures/images/make_images.py`"
        ) from None


@functools.cache
def image_mix() -> tuple[UploadImage, ...]:
    """The mix's images with their bytes (generated once per process)."""
    return tuple(UploadImage(name, _bytes(name), weight) for name, weight in MIX)
