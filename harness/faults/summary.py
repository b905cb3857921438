"""The resilience suite's results: one cell per fault x operation x backend -> resilience.json.

The file's model is `harness.runfolder.resilience.ResilienceFile`.

Under pytest-xdist every worker merges its cells into the same file (under a file lock),
keyed by the run's id so a reused run folder never mixes two runs.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.runfolder import update_file
from harness.runfolder.resilience import ResilienceFile

__all__ = ["Cell", "ResilienceSummary"]


@dataclass
class Cell:
    fault: str
    operation: str
    backend: str
    calls: int = 0
    attempts: int = 0
    recovered: int = 0
    failed: int = 0
    lost: int = 0
    untyped: int = 0
    requests: int = 0
    max_attempts: int = 0
    errors: Counter[str] = field(default_factory=Counter)

    def to_json(self) -> dict[str, Any]:
        return {
            "fault": self.fault,
            "operation": self.operation,
            "backend": self.backend,
            "calls": self.calls,
            "attempts": self.attempts,
            "recovered": self.recovered,
            "failed": self.failed,
            "lost": self.lost,
            "untyped": self.untyped,
            "requests": self.requests,
            "max_attempts": self.max_attempts,
            "errors": dict(self.errors),
        }

    def merge(self, other: dict[str, Any]) -> None:
        for key in ("calls", "attempts", "recovered", "failed", "lost", "untyped", "requests"):
            setattr(self, key, getattr(self, key) + int(other.get(key, 0)))
        self.max_attempts = max(self.max_attempts, int(other.get("max_attempts", 0)))
        self.errors.update({k: int(v) for k, v in (other.get("errors") or {}).items()})


class ResilienceSummary:
    """Collects call outcomes during the suite; `write(run_dir)` merges them to disk."""

    def __init__(self, run_id: str, attempts_bound: int) -> None:
        self.run_id = run_id
        self.attempts_bound = attempts_bound
        self._cells: dict[tuple[str, str, str], Cell] = {}
        self._checks: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def record(
        self,
        *,
        fault: str,
        operation: str,
        backend: str,
        attempts: int,
        succeeded: bool,
        lost: bool = False,
        requests: int = 0,
        error: str | None = None,
        typed: bool = True,
    ) -> None:
        """One logical call; `typed=False` marks an error outside the StorageError family."""
        with self._lock:
            cell = self._cells.setdefault(
                (fault, operation, backend), Cell(fault, operation, backend)
            )
            cell.calls += 1
            cell.attempts += attempts
            cell.requests += requests
            cell.max_attempts = max(cell.max_attempts, attempts)
            cell.lost += int(lost)
            cell.untyped += int(not typed)
            if succeeded:
                cell.recovered += int(attempts > 1)
            else:
                cell.failed += 1
                cell.errors[error or "unknown"] += 1

    def check(self, name: str, backend: str, passed: bool, detail: str = "") -> None:
        with self._lock:
            self._checks.append(
                {"name": name, "backend": backend, "passed": passed, "detail": detail}
            )

    def to_record(self, previous: ResilienceFile | None = None) -> ResilienceFile:
        """This process's results, merged into `previous` when it is from the same run."""
        with self._lock:
            cells = {key: Cell(*key) for key in self._cells}
            for key, cell in self._cells.items():
                cells[key].merge(cell.to_json())
            checks = list(self._checks)
        if previous and previous.run_id == self.run_id:
            for data in previous.cells:
                key = (data.fault, data.operation, data.backend)
                cells.setdefault(key, Cell(*key)).merge(data.model_dump())
            checks = [c.model_dump() for c in previous.checks] + checks
        ordered = [cells[k] for k in sorted(cells)]
        summary = {
            "faults": len({c.fault for c in ordered}),
            "operations": len({c.operation for c in ordered}),
            "calls": sum(c.calls for c in ordered),
            "attempts": sum(c.attempts for c in ordered),
            "recovered": sum(c.recovered for c in ordered),
            "failed": sum(c.failed for c in ordered),
            "lost": sum(c.lost for c in ordered),
            "untyped_errors": sum(c.untyped for c in ordered),
            "requests_at_proxy": sum(c.requests for c in ordered),
            "max_attempts_per_call": max((c.max_attempts for c in ordered), default=0),
            "attempts_bound": self.attempts_bound,
            "checks_passed": sum(1 for c in checks if c["passed"]),
            "checks_failed": sum(1 for c in checks if not c["passed"]),
            "faults_tried": sorted({c.fault for c in ordered}),
            "operations_tried": sorted({c.operation for c in ordered}),
            "backends": sorted({c.backend for c in ordered}),
        }
        return ResilienceFile.model_validate(
            {
                "run_id": self.run_id,
                "summary": summary,
                "cells": [c.to_json() for c in ordered],
                "checks": checks,
            }
        )

    def write(self, run_dir: Path) -> Path:
        """Merge this process's results into `run_dir/resilience.json` (locked)."""
        return update_file(run_dir, ResilienceFile, self.to_record)
