"""Where a run writes: the one resolver of the run folder.

Precedence: an explicit path (`--run-dir`), then `HARNESS_RUN_DIR`, then a new
`<reports root>/runs/<UTC timestamp>` with `<reports root>/latest` pointing at it. The
reports root is `HARNESS_REPORTS_DIR` or `./reports`. Nothing here changes the environment:
a caller that starts a child process passes the folder on explicitly.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from harness.settings import read_settings

__all__ = [
    "RUN_DIR_VARIABLE",
    "latest_run_dir",
    "new_run_dir",
    "reports_root",
    "resolve_run_dir",
]

RUN_DIR_VARIABLE = "HARNESS_RUN_DIR"


def reports_root(environ: Mapping[str, str] | None = None) -> Path:
    return read_settings(environ).reports_root


def new_run_dir(root: Path | None = None, *, now: datetime | None = None) -> Path:
    """Create `<root>/runs/<UTC timestamp>` (suffixed when taken); point `latest` at it."""
    root = root or reports_root()
    base = root / "runs"
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    run = base / stamp
    suffix = 1
    while run.exists():
        suffix += 1
        run = base / f"{stamp}-{suffix}"
    run.mkdir(parents=True)
    latest = root / "latest"
    try:
        if latest.is_symlink() or latest.exists():
            latest.unlink()
        latest.symlink_to(run.relative_to(root))
    except OSError:
        pass
    return run


def resolve_run_dir(
    explicit: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Path:
    """The run folder to write into (created when missing), by the precedence above."""
    settings = read_settings(environ)
    named = explicit or settings.run_dir
    if named:
        path = Path(named).resolve()
        path.mkdir(parents=True, exist_ok=True)
        return path
    return new_run_dir(settings.reports_root)


def latest_run_dir(root: Path | None = None) -> Path | None:
    """The newest existing run folder, for a command that reads one and must never make
    one (`bench --gate-only`): where `<root>/latest` points, else the last of
    `<root>/runs/*` by name (UTC timestamps sort in time order); None when there is none."""
    root = root or reports_root()
    latest = root / "latest"
    if latest.is_dir():
        return latest.resolve()
    runs = root / "runs"
    folders = sorted(p for p in runs.iterdir() if p.is_dir()) if runs.is_dir() else []
    return folders[-1].resolve() if folders else None
