"""The run folder every stage writes into and the report renderer reads from.

Layout of `reports/runs/<UTC timestamp>/` (one file per stage, all optional). The exact
schema of each file is the docstring of the class that reads it in
`harness/report/model.py` / `harness/report/benchmodel.py`; the reader tolerates missing
files, missing keys and unknown keys.

- `environment.json`   versions, CPU, commit, date, "provision" (the plugin writes it);
                        any keys, shown flattened (secret-looking keys redacted)
- `suites/<suite>.json` per-test outcomes: {"suite", "tests": [{"nodeid", "backend",
                        "outcome", "duration_s", "message"}]} (the plugin writes it)
- `services.json`      service start timings {"services": [{"name", "mode", "ready_s"}],
                        "parallel_ready_s"}
- `benchmarks.json`    pytest-benchmark's --benchmark-json output, run with
                        --benchmark-save-data; each entry's extra_info names
                        {"operation", "backend", "impl": "crownsafe"|"sdk", "size_bytes"}
- `bench/concurrency.json` {"points": [{"backend", "operation", "size_bytes", "workers",
                        "ops", "seconds", "ops_per_s", "mb_per_s"}]}
- `bench/paired.json`  {"pairs": [{"operation", "size_bytes", "impl",
                        "samples": {"azure": [s...], "s3": [s...]}}]} (interleaved)
- `bench/aa.json`      {"runs": [{"backend", "operation", "size_bytes", "first_s",
                        "second_s"}]} (A/A: the noise floor)
- `bench/rss.json`     {"points": [{"backend", "operation", "size_bytes",
                        "peak_rss_delta_bytes"}]}
- `bench/ratios.json`  crownsafe overhead: {"comparisons": [{"backend", "operation",
                        "size_bytes", "comparison", "ratio", "ci_low", "ci_high",
                        "noise_floor", "goal", "verdict", "reason", ...}]}
- `bench/memory.json`  peak RSS of a large streamed upload, fresh process: {"points":
                        [{"backend", "size_bytes", "peak_rss_increase_bytes", "goal_bytes",
                        "verdict", ...}]}
- `bench/gate.json`    regression gate (harness.bench): {"baseline", "threshold",
                        "noise_floor", "passed", "compared", "regressions": [...]}
- `resilience.json`    {"summary": {...}, "cells": [{"fault", "operation", "backend",
                        "calls", "attempts", "recovered", "failed", "lost"}], "checks":
                        [{"name", "backend", "passed", "detail"}]} (harness/faults/summary.py)
- `migration.json`     free-form sections by the migration suite, rendered as tables;
                        any "mismatches"/"lost"/"rows_pointing_at_s3" > 0 or
                        "checksums_equal"/"resume_worked"/"retry_succeeded"/"copied_once"/
                        "passed" = false makes the verdict "not ready"
- `load.json`          {"tool", "users", "duration_s", "endpoints": [{"name", "backend",
                        "requests", "failures", "rps", "p50_ms", "p95_ms", "p99_ms"}],
                        "slos": [{"name", "passed", "detail"}]}
- `api.json`, `security.json`  {"checks": [{"name", "backend", "passed", "detail"}]}
- `workload.json`      optional cost profiles {"profiles": [{"name", "uploads_per_day",
                        "mean_object_bytes", "reads_per_day", "retention_days",
                        "egress_fraction"}]} (default: harness.cost.DEFAULT_SCENARIOS)
- `index.html`         the rendered report (harness.report.render_run)

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
