"""Argument types the commands share, so a bad value reads the same everywhere (the
numeric ones are crownsafe's, `crownsafe.cli_arguments`, which its own tools use too)."""

from __future__ import annotations

import argparse

from crownsafe.cli_arguments import (
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
)
from crownsafe.config import BACKENDS
from harness.services.provision import SERVICE_NAMES, canonical_service_name

__all__ = [
    "backend_list",
    "non_negative_float",
    "non_negative_int",
    "positive_float",
    "positive_int",
    "service_list",
]


def backend_list(text: str) -> list[str]:
    """`--backends azure,s3`: a non-empty comma-separated subset of BACKENDS, in order."""
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in BACKENDS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"use a comma-separated subset of {','.join(BACKENDS)}: {text!r}"
        )
    return list(dict.fromkeys(names))


def service_list(text: str) -> list[str]:
    """`--services azure,redis`: one or more service names (aliases such as azurite and
    moto allowed), canonical and without repeats."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise argparse.ArgumentTypeError(
            f"name at least one service, comma-separated: {', '.join(SERVICE_NAMES)}"
        )
    try:
        return list(dict.fromkeys(canonical_service_name(n) for n in names))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
