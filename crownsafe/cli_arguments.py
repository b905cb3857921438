"""argparse types the command lines share, so a bad value reads the same everywhere:
`argument --workers: must be a whole number of 1 or more, got '-2'` and exit status 2,
never a traceback or a silently corrected value."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import TypeVar

__all__ = ["non_negative_float", "non_negative_int", "positive_float", "positive_int"]

N = TypeVar("N", int, float)


def _parse(text: str, kind: Callable[[str], N], what: str, ok: Callable[[N], bool]) -> N:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None
    if not (math.isfinite(value) and ok(value)):
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """A whole number of 1 or more."""
    return _parse(text, int, "a whole number of 1 or more", lambda v: v >= 1)


def non_negative_int(text: str) -> int:
    """A whole number of 0 or more."""
    return _parse(text, int, "a whole number of 0 or more", lambda v: v >= 0)


def positive_float(text: str) -> float:
    """A number greater than 0."""
    return _parse(text, float, "a number greater than 0", lambda v: v > 0)


def non_negative_float(text: str) -> float:
    """A number of 0 or more."""
    return _parse(text, float, "a number of 0 or more", lambda v: v >= 0)
