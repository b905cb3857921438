"""The run folder every stage writes into and the report renderer reads from.

Layout of `reports/runs/<UTC timestamp>/` (one file per stage, all optional):

- `environment.json`   versions, CPU, commit, date (the plugin writes it)
- `suites/<suite>.json` per-test outcomes: {"suite", "tests": [{"nodeid", "backend",
                        "outcome", "duration_s", "message"}]} (the plugin writes it)
- `services.json`      service start timings {"services": [{"name", "mode", "ready_s"}],
                        "parallel_ready_s"}
- `benchmarks.json`    pytest-benchmark's --benchmark-json output
- `bench/*.json`       extra benchmark data (concurrency sweep, paired samples, A/A)
- `resilience.json`    fault x operation x backend matrix (suites/resilience)
- `migration.json`     schema + object migration results (suites/migration)
- `api.json`, `security.json`, `load.json`  later suites
- `index.html`         the rendered report

`HARNESS_RUN_DIR` names the folder; without it each session makes a new timestamped one.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["REPORTS_ROOT", "new_run_dir", "resolve_run_dir", "write_json"]

REPORTS_ROOT = Path(os.environ.get("HARNESS_REPORTS_DIR", Path.cwd() / "reports"))


def new_run_dir(root: Path | None = None) -> Path:
    """Create `<root>/runs/<UTC timestamp>` and point `<root>/latest` at it."""
    base = (root or REPORTS_ROOT) / "runs"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run = base / stamp
    suffix = 1
    while run.exists():
        suffix += 1
        run = base / f"{stamp}-{suffix}"
    run.mkdir(parents=True)
    latest = (root or REPORTS_ROOT) / "latest"
    try:
        if latest.is_symlink() or latest.exists():
            latest.unlink()
        latest.symlink_to(run.relative_to(latest.parent))
    except OSError:
        pass
    return run


def resolve_run_dir() -> Path:
    """The run folder named by HARNESS_RUN_DIR, created if needed, else a new one."""
    named = os.environ.get("HARNESS_RUN_DIR")
    if named:
        path = Path(named)
        path.mkdir(parents=True, exist_ok=True)
        return path
    run = new_run_dir()
    os.environ["HARNESS_RUN_DIR"] = str(run)
    return run


def write_json(run_dir: Path, relative: str, data: Any) -> Path:
    """Write `data` as pretty JSON at `run_dir/relative` atomically; return the path."""
    target = run_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str))
    tmp.replace(target)
    return target
