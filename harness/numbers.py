"""How the harness writes a measured number in a sentence (three significant digits).

One formatter for every place that puts a figure into words a reader compares: the
run-folder models' broken promises, the report's tables and charts, the commands' lines.
"""

from __future__ import annotations

import math

__all__ = ["fmt"]


def fmt(value: float | None, digits: int = 3) -> str:
    """A number with `digits` significant digits, no exponent for ordinary magnitudes."""
    if value is None or not math.isfinite(value):
        return "n/a"
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(0, digits - 1 - magnitude)
    return f"{value:,.{decimals}f}"
