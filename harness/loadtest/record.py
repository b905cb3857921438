"""Write `load.json` through its model, merged with what the run folder already holds.

One `LoadRun` per backend and mode: a later run of the same backend and mode replaces the
earlier one, any other stays, so a step run and a plain run coexist in one folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from harness.environment import _cpu_model
from harness.loadtest.sampling import cores_available
from harness.runfolder.io import update_file
from harness.runfolder.load import LoadFile, LoadRun

__all__ = ["machine_description", "merge_runs", "write_load_file"]


def machine_description(cores: int | None = None) -> str:
    """'2 cores, Intel(R) Xeon(R) ...': what generated the load and ran the stack."""
    return f"{cores or cores_available()} cores, {_cpu_model() or 'unknown CPU'}"


def merge_runs(current: Sequence[LoadRun], new: Sequence[LoadRun]) -> list[LoadRun]:
    """`current` with every (backend, mode) of `new` replaced by the new run, in order."""
    replaced = {(r.backend, r.mode) for r in new}
    return [*(r for r in current if (r.backend, r.mode) not in replaced), *new]


def write_load_file(
    run_dir: Path, runs: Sequence[LoadRun], *, tool: str, slo_file: str, machine: str
) -> Path:
    """Locked read-modify-write of `load.json` with `runs` merged in."""

    def change(current: LoadFile | None) -> LoadFile:
        return LoadFile(
            tool=tool,
            slo_file=slo_file,
            machine=machine,
            runs=merge_runs(current.runs if current else [], runs),
        )

    return update_file(run_dir, LoadFile, change)
