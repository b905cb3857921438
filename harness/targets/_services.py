"""services.json entries for the targets' services, with each one's resident memory.

Several processes may add to one run folder's services.json (the first xdist worker its
primary services, whichever worker starts LocalStack that one), so every write merges
under a lock on the run folder instead of overwriting.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import psutil

from harness.services.provision import ProvisionedServices
from harness.targets._registry import Target

__all__ = ["SERVICES_FILE", "record_services", "rss_mib"]

SERVICES_FILE = "services.json"


def rss_mib(pid: int | None) -> float | None:
    """Resident memory of a process and its children, MiB (None when not a local process)."""
    if pid is None:
        return None
    try:
        process = psutil.Process(pid)
        total = process.memory_info().rss
        for child in process.children(recursive=True):
            total += child.memory_info().rss
    except psutil.Error:
        return None
    return round(total / 2**20, 1)


def _entries(handle: ProvisionedServices, targets: Mapping[str, Target]) -> list[dict[str, Any]]:
    by_name = {timing.name: timing for timing in handle.timings}
    entries = []
    for key, service in handle.services.items():
        timing = by_name.get(key)
        if timing is None:
            continue
        target = targets.get(key)
        entries.append(
            {
                "name": timing.name,
                "mode": timing.mode,
                "ready_s": timing.ready_s,
                "endpoint": timing.endpoint,
                "target": target.name if target else "",
                "rss_mib": rss_mib(getattr(service, "pid", None)),
            }
        )
    return entries


def record_services(
    run_dir: Path,
    handle: ProvisionedServices,
    targets: Mapping[str, Target],
    *,
    primary: bool,
) -> Path:
    """Merge `handle`'s services into services.json (same name, target and endpoint:
    replaced; each xdist worker that starts a target's service adds its own entry).

    `primary` services also set the file's top-level fields (mode, start, parallel time),
    but only when no primary services were recorded yet (a later session in the same run
    folder, e.g. the benchmarks, leaves them alone, as before).
    """
    path = run_dir / SERVICES_FILE
    run_dir.mkdir(parents=True, exist_ok=True)
    folder = os.open(run_dir, os.O_RDONLY)
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)
        data: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
        if primary and "parallel_ready_s" in data:
            return path
        if primary:
            record = handle.to_json()
            data.update({k: v for k, v in record.items() if k != "services"})
        new = _entries(handle, targets)
        keys = {(e["name"], e["target"], e["endpoint"]) for e in new}
        kept = [
            e
            for e in data.get("services", [])
            if (e["name"], e.get("target", ""), e.get("endpoint", "")) not in keys
        ]
        data["services"] = [*kept, *new]
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
        tmp.replace(path)
    finally:
        os.close(folder)
    return path
