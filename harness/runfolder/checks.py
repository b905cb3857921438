"""Named pass/fail checks, and the files made only of them (`api.json`, `security.json`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

from pydantic import Field

from harness.runfolder._base import Record, RunFile
from harness.runfolder.io import update_file

__all__ = ["ApiChecksFile", "Check", "ChecksFile", "SecurityChecksFile", "record_checks"]


class Check(Record):
    name: str
    passed: bool
    detail: str = ""
    backend: str = ""


class ChecksFile(RunFile):
    checks: list[Check] = Field(default_factory=list)


class ApiChecksFile(ChecksFile):
    FILE = "api.json"


class SecurityChecksFile(ChecksFile):
    FILE = "security.json"


C = TypeVar("C", bound=ChecksFile)


def record_checks(run_dir: Path, model: type[C], checks: Sequence[Check]) -> Path:
    """Add `checks` to the run folder's `model` file (locked: xdist workers write it too).

    A check is one promise on one backend: a new result for the same (name, backend)
    replaces the old one, so a rerun of one test does not leave two verdicts behind."""
    replaced = {(c.name, c.backend) for c in checks}

    def change(current: C | None) -> C:
        kept = [
            c for c in (current.checks if current else []) if (c.name, c.backend) not in replaced
        ]
        return model(checks=[*kept, *checks])

    return update_file(run_dir, model, change)
