"""What the load suite's tests share: the result of one `crownsafe-harness load` run.

suites/load is not a package (as one it would be named `load` and hide the repository's
load/ from suites/unit/load), so pytest puts this folder on sys.path and the tests import
this module by its own, unique, name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.runfolder.io import read_file
from harness.runfolder.load import LoadFile, LoadRun

__all__ = ["LoadCommand", "LoadResult"]


@dataclass(frozen=True)
class LoadResult:
    code: int
    stdout: str
    stderr: str
    run_dir: Path

    def load_file(self) -> LoadFile:
        """load.json validated through its model (RunFileError names the first problem)."""
        return read_file(self.run_dir, "load.json", LoadFile)

    def run(self, backend: str, mode: str) -> LoadRun:
        runs = [r for r in self.load_file().runs if (r.backend, r.mode) == (backend, mode)]
        assert len(runs) == 1, f"expected one {backend}/{mode} run, got {len(runs)}"
        return runs[0]

    def explain(self) -> str:
        out, err = self.stdout[-4000:], self.stderr[-4000:]
        return f"exit {self.code}\n--- stdout\n{out}\n--- stderr\n{err}"


LoadCommand = Callable[..., LoadResult]
