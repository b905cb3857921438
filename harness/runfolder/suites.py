"""`suites/<suite>.json`: every test's outcome, one file per suite (the plugin writes it)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.runfolder._base import Record, RunFile

__all__ = ["FAILED_OUTCOMES", "Outcome", "SuiteFile", "TestRecord"]

Outcome = Literal["passed", "failed", "error", "skipped", "xfailed", "xpassed"]
FAILED_OUTCOMES = frozenset({"failed", "error"})


class TestRecord(Record):
    """One test, its setup, call and teardown folded together."""

    __test__ = False  # not a pytest test class

    nodeid: str
    backend: str | None = Field(None, description="azure / s3 from the test id, else null")
    outcome: Outcome
    duration_s: float = 0.0
    message: str = Field("", description="failure text, secrets redacted, at most 2000 chars")


class SuiteFile(RunFile):
    FILE = "suites/*.json"

    suite: str
    exitstatus: int = Field(0, description="pytest's exit status of the session that wrote it")
    totals: dict[str, int] = Field(default_factory=dict, description="outcome -> count")
    backends: dict[str, dict[str, int]] = Field(
        default_factory=dict, description="backend ('-' for none) -> outcome -> count"
    )
    tests: list[TestRecord] = Field(default_factory=list)

    def backend_names(self) -> list[str]:
        return sorted({t.backend or "-" for t in self.tests})

    def counts(self, backend: str | None = None) -> dict[str, int]:
        """passed / failed (failed + error) / skipped / known_gap (xfailed: a test that
        failed the way its known-gaps file documents) / other (xpassed), for one backend
        or all."""
        counts = {"passed": 0, "failed": 0, "skipped": 0, "known_gap": 0, "other": 0}
        for t in self.tests:
            if backend is not None and (t.backend or "-") != backend:
                continue
            key: str = "failed" if t.outcome in FAILED_OUTCOMES else t.outcome
            key = "known_gap" if key == "xfailed" else key
            counts[key if key in counts else "other"] += 1
        return counts

    def failures(self) -> list[TestRecord]:
        return [t for t in self.tests if t.outcome in FAILED_OUTCOMES]
