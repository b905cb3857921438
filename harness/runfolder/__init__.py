"""The run folder: one typed model per file, shared by the writers and the readers.

- `paths`: where a run writes (`resolve_run_dir`, `new_run_dir`): the one resolver.
- the models (`suites`, `services`, `environment`, `benchmarks`, `bench`, `resilience`,
  `migration`, `load`, `checks`, `workload`, `summary`, `compatibility`,
  `contract_gaps`): pydantic v2, each with `FILE` and `schema_version`; `registry`
  lists them.
  pydantic rather than dataclasses: validation with located errors and JSON Schema
  generation come with it, so the schema in `docs/run-folder/` cannot drift from the code.
- `io`: validated reads, atomic writes, locked merges (several processes write at once).
- `folder.read_run`: the whole folder, validated; bad files become named problems.

The folder layout, file by file, is in `docs/run-folder.md`.
"""

from harness.runfolder.folder import BenchData, RunData, read_run
from harness.runfolder.io import RunFileError, merge_points, read_file, update_file, write_file
from harness.runfolder.paths import (
    RUN_DIR_VARIABLE,
    latest_run_dir,
    new_run_dir,
    reports_root,
    resolve_run_dir,
)

__all__ = [
    "RUN_DIR_VARIABLE",
    "BenchData",
    "RunData",
    "RunFileError",
    "latest_run_dir",
    "merge_points",
    "new_run_dir",
    "read_file",
    "read_run",
    "reports_root",
    "resolve_run_dir",
    "update_file",
    "write_file",
]
