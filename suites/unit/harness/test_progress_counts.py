"""The live test counts of `crownsafe-harness run`: a known gap (xfail) is a known gap."""

from __future__ import annotations

from harness.progress import TestCounts


def _report(nodeid: str, when: str, outcome: str, **extra: object) -> dict[str, object]:
    return {"$report_type": "TestReport", "nodeid": nodeid, "when": when, "outcome": outcome,
            **extra}  # fmt: skip


def test_an_xfail_is_counted_as_a_known_gap_not_a_skip() -> None:
    counts = TestCounts()
    counts.add(_report("a", "call", "passed"))
    counts.add(_report("b", "call", "skipped", wasxfail="known gap on s3:moto"))
    counts.add(_report("c", "setup", "skipped"))
    assert counts.totals() == {
        "passed": 1, "failed": 0, "error": 0, "skipped": 1, "known gap": 1,
    }  # fmt: skip
    assert counts.line() == "1 passed, 0 failed, 0 errors, 1 skipped, 1 known gap"
