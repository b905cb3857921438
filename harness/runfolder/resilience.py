"""`resilience.json`: every fault x operation x backend cell of the fault suite, and checks."""

from __future__ import annotations

from pydantic import Field

from harness.runfolder._base import Record, RunFile
from harness.runfolder.checks import Check

__all__ = ["ResilienceCell", "ResilienceFile", "ResilienceTotals"]


class ResilienceCell(Record):
    """Calls made, HTTP attempts, calls that succeeded after a retry (recovered), raised a
    typed error (failed) or lost data (lost: must be 0)."""

    fault: str
    operation: str
    backend: str
    calls: int = 0
    attempts: int = 0
    recovered: int = 0
    failed: int = 0
    lost: int = 0
    untyped: int = Field(0, description="failures that were not a typed crownsafe error")
    requests: int = Field(0, description="requests the fault proxy saw")
    max_attempts: int = 0
    errors: dict[str, int] = Field(default_factory=dict, description="error type -> count")

    @property
    def outcome(self) -> str:
        if self.lost:
            return "lost"
        if self.failed:
            return "failed"
        return "recovered" if self.recovered else "ok"


class ResilienceTotals(Record):
    faults: int = 0
    operations: int = 0
    calls: int = 0
    attempts: int = 0
    recovered: int = 0
    failed: int = 0
    lost: int = 0
    untyped_errors: int = 0
    requests_at_proxy: int = 0
    max_attempts_per_call: int = 0
    attempts_bound: int = Field(0, description="max_retries + 1: no call may exceed it")
    checks_passed: int = 0
    checks_failed: int = 0
    faults_tried: list[str] = Field(default_factory=list)
    operations_tried: list[str] = Field(default_factory=list)
    backends: list[str] = Field(default_factory=list)


class ResilienceFile(RunFile):
    FILE = "resilience.json"

    run_id: str = Field("", description="the session that wrote it (workers merge into it)")
    summary: ResilienceTotals = Field(default_factory=ResilienceTotals)
    cells: list[ResilienceCell] = Field(default_factory=list)
    checks: list[Check] = Field(default_factory=list)

    @property
    def lost(self) -> int:
        return max(sum(c.lost for c in self.cells), self.summary.lost)
