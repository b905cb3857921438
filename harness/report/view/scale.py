"""Which operations share a chart's axis: one 4 s bar on an axis beside 2 ms bars leaves
the short ones as flat lines, so operations far slower than the rest get a chart of their
own ("long operations") and each chart's axis fits its bars."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from typing import TypeVar

__all__ = ["LONG_FACTOR", "split_long"]

T = TypeVar("T")

LONG_FACTOR = 10.0


def split_long(
    items: Sequence[T], value: Callable[[T], float], factor: float = LONG_FACTOR
) -> tuple[list[T], list[T]]:
    """(regular, long), each in the given order. An item is long when its value is more
    than `factor` times the median of the others' values (exactly `factor` times stays):
    each is judged against the others, not against a median it pulls up itself, so two
    long operations among eight short ones both go. One item alone has no others and stays;
    a fast item among slow ones stays too (only bars far above the rest flatten a chart),
    and so does a long item more than `factor` times below the longest (it would be a flat
    bar on the long chart: exactly `factor` times below still goes)."""
    values = [value(i) for i in items]
    flags = []
    for n in range(len(items)):
        others = values[:n] + values[n + 1 :]
        flags.append(bool(others) and values[n] > factor * statistics.median(others))
    longest = max((v for v, f in zip(values, flags, strict=True) if f), default=0.0)
    # The long chart must fit its bars too: an item 10x the short ones but more than 10x
    # below the longest (65 ms list among 2 ms heads and 6 s migrations) stays with the rest.
    flags = [f and v * factor >= longest for v, f in zip(values, flags, strict=True)]
    regular = [i for i, f in zip(items, flags, strict=True) if not f]
    long = [i for i, f in zip(items, flags, strict=True) if f]
    return regular, long
