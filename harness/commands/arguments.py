"""Argument types the commands share, so a bad value reads the same everywhere."""

from __future__ import annotations

import argparse

from crownsafe.config import BACKENDS

__all__ = ["backend_list"]


def backend_list(text: str) -> list[str]:
    """`--backends azure,s3`: a non-empty comma-separated subset of BACKENDS, in order."""
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in BACKENDS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"use a comma-separated subset of {','.join(BACKENDS)}: {text!r}"
        )
    return list(dict.fromkeys(names))
