"""Deterministic test payloads, one definition for every suite and benchmark.

Seeded pseudo-random bytes (not zeros: compression or deduplication anywhere on the path
would flatter zeros), produced chunk by chunk so large sizes never sit in memory twice.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

__all__ = ["MIB", "pattern_chunks", "payload"]

MIB = 1024 * 1024


def pattern_chunks(size: int, seed: int | str = 0, chunk_size: int = MIB) -> Iterator[bytes]:
    """`size` deterministic pseudo-random bytes for `seed`, in chunks of `chunk_size`."""
    rng = random.Random(seed)
    remaining = size
    while remaining > 0:
        step = min(chunk_size, remaining)
        yield rng.randbytes(step)
        remaining -= step


def payload(size: int, seed: int | str = 0) -> bytes:
    """`size` deterministic pseudo-random bytes (for sizes that fit in memory)."""
    return b"".join(pattern_chunks(size, seed))
