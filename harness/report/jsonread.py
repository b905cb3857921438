"""Lenient readers for run-folder JSON: a wrong type falls back to a default, never raises."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["dicts", "floats", "integer", "num", "obj", "read_json", "text"]


def num(obj: Any, key: str, default: float | None = None) -> float | None:
    value = obj.get(key, default) if isinstance(obj, dict) else default
    if isinstance(value, bool):
        return float(value)
    return float(value) if isinstance(value, int | float) else default


def integer(obj: Any, key: str, default: int = 0) -> int:
    value = num(obj, key)
    return int(value) if value is not None else default


def text(obj: Any, key: str, default: str = "") -> str:
    value = obj.get(key) if isinstance(obj, dict) else None
    return str(value) if value is not None else default


def floats(value: Any) -> list[float]:
    if not isinstance(value, list):
        return []
    return [float(v) for v in value if isinstance(v, int | float) and not isinstance(v, bool)]


def obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def read_json(root: Path, relative: str, problems: list[str]) -> Any:
    """`root/relative` parsed, or None when absent; an unreadable file adds a problem."""
    path = root / relative
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        problems.append(f"{relative}: unreadable ({exc}); section left out")
        return None
