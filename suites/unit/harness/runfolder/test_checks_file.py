"""`record_checks`: named checks land in security.json, one verdict per (name, backend)."""

from __future__ import annotations

from pathlib import Path

from harness.runfolder.checks import Check, SecurityChecksFile, record_checks
from harness.runfolder.folder import read_run


def test_checks_accumulate_and_a_rerun_replaces_its_own_verdict(tmp_path: Path) -> None:
    record_checks(tmp_path, SecurityChecksFile, [Check(name="a", passed=True, backend="azure")])
    record_checks(tmp_path, SecurityChecksFile, [Check(name="a", passed=True, backend="s3")])
    record_checks(tmp_path, SecurityChecksFile, [Check(name="a", passed=False, backend="azure")])
    checks = read_run(tmp_path).checks["security"]
    assert {(c.name, c.backend, c.passed) for c in checks} == {
        ("a", "s3", True),
        ("a", "azure", False),
    }
    assert (tmp_path / "security.json").is_file()
