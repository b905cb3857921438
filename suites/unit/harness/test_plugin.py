"""harness.plugin: the suite and backend of a test id, and the per-suite record it writes."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from harness.plugin import _suite_record, backend_of, suite_of
from harness.runfolder import write_file
from harness.stages import summary_rows, summary_table


@pytest.mark.parametrize(
    ("nodeid", "suite"),
    [
        ("suites/contract/test_roundtrip.py::test_x[azure]", "contract"),
        ("suites/unit/sub/test_y.py::test_y", "unit"),
        ("suites/contract/test_roundtrip.py", "contract"),
        ("benchmarks/test_bench_small_ops.py::test_b[s3]", "benchmarks"),
        ("suites/test_top.py::t", "suites"),
        ("tests/test_z.py::t", "tests"),
        ("test_z.py::t", "other"),
    ],
)
def test_suite_is_the_first_folder_under_suites(nodeid: str, suite: str) -> None:
    """The suite name of a test id is the folder under suites/ (or 'benchmarks')."""
    assert suite_of(nodeid) == suite


@pytest.mark.parametrize(
    ("params", "backend"),
    [
        ({"storage_target": "azure:azurite"}, "azure"),
        ({"storage_target": "s3:moto"}, "s3"),
        ({"size": 1024, "storage_target": "s3:localstack"}, "s3"),
        ({"backend_name": "azure", "n": 0}, "azure"),
        (None, None),
        ({"name": "s3x"}, None),
        ({"bucket": "amzn-s3-demo-bucket", "reason": "reserved prefix"}, None),
        ({"form": "azure", "storage_target": "s3:moto"}, "s3"),
        ({"client": "s3", "hours": 1}, "s3"),
    ],
    ids=[
        "azure",
        "s3",
        "size-then-target",
        "own-parameter",
        "none",
        "lookalike",
        "id-mentions-s3",
        "target-wins",
        "parametrized-fixture",
    ],
)
def test_backend_comes_from_the_test_s_parameters(
    params: dict[str, object] | None, backend: str | None
) -> None:
    """The target's backend, else a parameter whose value is a backend, never the id's
    text ('[amzn-s3-demo-bucket-reserved prefix]' is not an S3 test)."""
    item = SimpleNamespace(callspec=SimpleNamespace(params=params)) if params else SimpleNamespace()
    assert backend_of(item) == backend  # type: ignore[arg-type]


def test_suite_record_and_summary_table(tmp_path: Path) -> None:
    """Per-backend counts in suites/<suite>.json drive the printed summary table."""
    tests: list[dict[str, Any]] = [
        {"nodeid": "a[azure]", "backend": "azure", "outcome": "passed"},
        {"nodeid": "a[s3]", "backend": "s3", "outcome": "failed"},
        {"nodeid": "b[s3]", "backend": "s3", "outcome": "skipped"},
        {"nodeid": "c", "backend": None, "outcome": "error"},
    ]
    record = _suite_record("contract", tests, 1)
    assert record.totals == {"passed": 1, "failed": 1, "skipped": 1, "error": 1}
    assert record.backends["s3"] == {"failed": 1, "skipped": 1}
    write_file(tmp_path, record, "suites/contract.json")
    rows = summary_rows(tmp_path)
    assert [(r["backend"], r["passed"], r["failed"], r["error"], r["skipped"]) for r in rows] == [
        ("-", 0, 0, 1, 0),
        ("azure", 1, 0, 0, 0),
        ("s3", 0, 1, 0, 1),
    ]
    table = summary_table(rows).splitlines()
    assert table[0].split()[:6] == ["suite", "backend", "passed", "failed", "error", "skipped"]
    assert table[0].rstrip().endswith("known gap")
    assert table[-1].split() == ["contract", "s3", "0", "1", "0", "1", "0"]


def test_summary_table_counts_xfails_as_known_gaps(tmp_path: Path) -> None:
    """An xfail (a known gap) is neither skipped nor missing from the summary table."""
    tests: list[dict[str, Any]] = [
        {"nodeid": f"g{i}[s3]", "backend": "s3", "outcome": "xfailed"} for i in range(6)
    ]
    write_file(tmp_path, _suite_record("contract", tests, 1), "suites/contract.json")
    rows = summary_rows(tmp_path)
    assert rows[0]["known gap"] == 6 and rows[0]["skipped"] == 0
    assert summary_table(rows).splitlines()[-1].split() == [
        "contract", "s3", "0", "0", "0", "0", "6",
    ]  # fmt: skip
