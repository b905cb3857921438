"""Merging entries into the run folder's `bench/*.json` files (replaced later by typed writers)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from harness.rundir import write_json

__all__ = ["merge_json"]


def merge_json(
    run_dir: Path,
    relative: str,
    list_key: str,
    entries: Sequence[Any],
    identity: Sequence[str],
) -> Path:
    """Add `entries` (dataclasses or dicts) to `run_dir/relative`'s `list_key` list,
    replacing earlier entries with the same `identity` fields."""
    target = run_dir / relative
    current: dict[str, Any] = {}
    if target.is_file():
        try:
            loaded = json.loads(target.read_text("utf-8"))
            current = loaded if isinstance(loaded, dict) else {}
        except ValueError:
            current = {}
    new = [asdict(e) if not isinstance(e, dict) else dict(e) for e in entries]

    def key(item: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(item.get(f) for f in identity)

    replaced = {key(e) for e in new}
    kept = [e for e in current.get(list_key, []) if isinstance(e, dict) and key(e) not in replaced]
    current[list_key] = kept + new
    return write_json(run_dir, relative, current)
