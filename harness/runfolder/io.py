"""Reading and writing run-folder files through their models: validated, atomic, locked.

Several processes write into one run folder at once (xdist workers, the bench
subprocess), so every read-modify-write holds an exclusive `flock` on a side file, and
every write goes to a temporary file first and is renamed into place: a reader never sees
half a file.
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from harness.runfolder._base import RunFile
from harness.runfolder.bench import PointsFile

__all__ = ["RunFileError", "merge_points", "read_file", "update_file", "write_file"]

F = TypeVar("F", bound=RunFile)
P = TypeVar("P", bound=PointsFile)


class RunFileError(Exception):
    """A run-folder file that cannot be read or does not match its schema."""

    def __init__(self, relative: str, problem: str) -> None:
        self.relative, self.problem = relative, problem
        super().__init__(f"{relative}: {problem}")


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "(top level)"
    shown = repr(error.get("input"))
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {error['msg']} (got {shown}){more}"


def read_file(run_dir: Path, relative: str, model: type[F]) -> F:
    """`run_dir/relative` validated as `model`; RunFileError names the first problem."""
    path = run_dir / relative
    try:
        raw = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RunFileError(relative, f"unreadable ({exc.__class__.__name__}: {exc})") from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise RunFileError(relative, f"not JSON ({exc})") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RunFileError(relative, f"does not match its schema: {_first_error(exc)}") from None


def write_file(run_dir: Path, model: RunFile, relative: str | None = None) -> Path:
    """Write `model` at `run_dir/relative` (default: its FILE) atomically; return the path."""
    target = run_dir / (relative or type(model).FILE)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(model.model_dump_json(indent=2) + "\n", "utf-8")
    tmp.replace(target)
    return target


@contextmanager
def _locked(run_dir: Path, relative: str) -> Iterator[None]:
    run_dir.mkdir(parents=True, exist_ok=True)
    lock_path = run_dir / f".{relative.replace('/', '_')}.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def update_file(run_dir: Path, model: type[F], change: Callable[[F | None], F]) -> Path:
    """Locked read-modify-write: `change(current or None)` returns the file to write.

    A current file that no longer validates is replaced, not merged (it is evidence of an
    older writer; the new content is what this run measured)."""
    relative = model.FILE
    with _locked(run_dir, relative):
        current: F | None = None
        if (run_dir / relative).is_file():
            try:
                current = read_file(run_dir, relative, model)
            except RunFileError:
                current = None
        return write_file(run_dir, change(current))


def merge_points(
    run_dir: Path, model: type[P], entries: Sequence[BaseModel | dict[str, Any]]
) -> Path:
    """Add `entries` to the file's list, replacing entries with the same IDENTITY."""
    field = model.model_fields[model.LIST]
    item_type: Any = field.annotation.__args__[0]  # type: ignore[union-attr]
    new = [e if isinstance(e, BaseModel) else item_type.model_validate(e) for e in entries]

    def key(item: BaseModel) -> tuple[Any, ...]:
        return tuple(getattr(item, name) for name in model.IDENTITY)

    def change(current: P | None) -> P:
        replaced = {key(e) for e in new}
        kept = [
            e for e in (getattr(current, model.LIST) if current else []) if key(e) not in replaced
        ]
        return model.model_validate({model.LIST: [*kept, *new]})

    return update_file(run_dir, model, change)
