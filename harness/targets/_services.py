"""services.json entries for the targets' services, with each one's resident memory.

Several processes may add to one run folder's services.json (the first xdist worker its
primary services, whichever worker starts LocalStack that one), so every write merges
under a lock on the run folder instead of overwriting.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import psutil

from harness.runfolder import update_file
from harness.runfolder.services import ServicesFile, ServiceTiming
from harness.services.provision import ProvisionedServices
from harness.targets._registry import Target

__all__ = ["SERVICES_FILE", "record_services", "rss_mib"]

SERVICES_FILE = ServicesFile.FILE


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
    new = [ServiceTiming.model_validate(e) for e in _entries(handle, targets)]

    def change(current: ServicesFile | None) -> ServicesFile:
        if primary and current is not None and current.parallel_ready_s is not None:
            return current
        base = current or ServicesFile()
        if primary:
            record = handle.to_record()
            base = base.model_copy(
                update={
                    "mode": record.mode,
                    "started_at": record.started_at,
                    "parallel_ready_s": record.parallel_ready_s,
                }
            )
        keys = {(e.name, e.target, e.endpoint) for e in new}
        kept = [e for e in base.services if (e.name, e.target, e.endpoint) not in keys]
        return base.model_copy(update={"services": [*kept, *new]})

    return update_file(run_dir, ServicesFile, change)
