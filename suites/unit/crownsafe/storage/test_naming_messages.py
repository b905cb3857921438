"""Name errors say the rule that was broken, not a neighbouring one."""

from __future__ import annotations

import pytest

from crownsafe.errors import InvalidBlobNameError
from crownsafe.storage.naming import validate_blob_name


def _error(name: str) -> InvalidBlobNameError:
    with pytest.raises(InvalidBlobNameError) as caught:
        validate_blob_name(name)
    return caught.value


@pytest.mark.parametrize(
    ("name", "segment", "position"),
    [("../etc/passwd", "..", 0), ("a/./b", ".", 2), ("scans/..", "..", 6), (".", ".", 0)],
)
def test_dot_segments_are_reported_as_path_traversal(
    name: str, segment: str, position: int
) -> None:
    """'.' and '..' segments are named as relative/path-traversal segments, not as a
    trailing '.' to drop."""
    error = _error(name)
    text = str(error)
    assert f"path segment {segment!r} at position {position}" in text, text
    assert "path traversal" in text and "'.' or '..'" in error.reason, text
    assert "trailing" not in text, text
    assert "remove" in error.hint and "'..'" in error.hint, error.hint


def test_a_segment_ending_in_a_dot_still_says_trailing_dot() -> None:
    """'dir./x' breaks Azure's trailing-'.' rule, and the message says that one."""
    error = _error("dir./x")
    assert "ends with '.'" in str(error) and "trailing '.'" in error.hint
    assert "traversal" not in str(error)


@pytest.mark.parametrize(
    ("name", "facts"),
    [
        ("a" * 2000, ("2000 bytes in UTF-8", "2000 characters")),
        ("é" * 600, ("1200 bytes in UTF-8", "600 characters")),
    ],
)
def test_length_limit_is_phrased_per_service(name: str, facts: tuple[str, ...]) -> None:
    """S3 keys: 1,024 UTF-8 bytes; Azure names: 1,024 characters; never 'stricter than'
    a limit of the same number."""
    error = _error(name)
    text = str(error)
    for fact in facts:
        assert fact in text, text
    assert "S3 keys are limited to 1,024 UTF-8 bytes" in text, text
    assert "Azure names to 1,024 characters" in text, text
    assert "stricter than Azure's 1,024" not in text, text
    assert "1,024 bytes" in error.hint, error.hint
