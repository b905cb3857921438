"""Every way image bytes can fail processing is a named rejection, never an internal error."""

from __future__ import annotations

from pathlib import Path

import pytest

from crownsafe.visual import processing
from crownsafe.visual.processing import ImageRejectedError, process_image_bytes

IMAGES = Path(__file__).resolve().parents[4] / "fixtures" / "images"
LIMIT = 40_000_000


def test_a_good_image_gives_its_size_thumbnail_and_hash() -> None:
    done = process_image_bytes((IMAGES / "small.jpg").read_bytes(), max_pixels=LIMIT)
    assert done.image.format == "jpeg" and done.image.width > 0
    assert done.thumbnail.startswith(b"\xff\xd8") and len(done.phash) == 16


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_a_truncated_image_is_rejected_saying_so(cut: float) -> None:
    data = (IMAGES / "small.jpg").read_bytes()
    with pytest.raises(ImageRejectedError, match="damaged or truncated"):
        process_image_bytes(data[: int(len(data) * cut)], max_pixels=LIMIT)


@pytest.mark.parametrize("error", [OSError("broken data stream"), SyntaxError("bad chunk")])
def test_bytes_that_verify_but_do_not_decode_are_rejected(
    error: Exception, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A decoder failure after verify() (a polyglot, a damaged scan) is bad input."""

    def fails(data: bytes, *, max_pixels: int) -> bytes:
        raise error

    monkeypatch.setattr(processing, "make_thumbnail", fails)
    with pytest.raises(ImageRejectedError, match=r"cannot be decoded \(.+\)"):
        process_image_bytes((IMAGES / "small.jpg").read_bytes(), max_pixels=LIMIT)
