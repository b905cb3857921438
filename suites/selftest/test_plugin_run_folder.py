"""The plugin records into a run folder only when one is asked for (like pytest-benchmark
writes files only when asked): a plain `pytest suites/unit` leaves `reports/` alone."""

from __future__ import annotations

import json

import pytest

pytest_plugins = ["pytester"]

UNIT = """
def test_one():
    pass

def test_two():
    pass
"""


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A repository-like folder with `suites/unit`, run from its root without any run
    folder in the environment."""
    monkeypatch.delenv("HARNESS_RUN_DIR", raising=False)
    monkeypatch.delenv("HARNESS_REPORTS_DIR", raising=False)
    unit = pytester.mkdir("suites") / "unit"
    unit.mkdir()
    (unit / "test_unit.py").write_text(UNIT)
    return pytester


def _pytest(project: pytest.Pytester, *args: str) -> pytest.RunResult:
    return project.runpytest_subprocess(
        "suites/unit", "-p", "no:cacheprovider", "-p", "no:locust", "-p", "no:xdist", *args,
        timeout=120,
    )  # fmt: skip


def test_a_plain_run_leaves_no_run_folder(project: pytest.Pytester) -> None:
    result = _pytest(project)
    assert result.ret == 0, result.stdout.str()
    assert not (project.path / "reports").exists()
    result.stdout.fnmatch_lines(["crownsafe run folder: none (pass --run-dir*"])


def test_an_asked_for_run_folder_gets_the_records(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    by_option = project.path / "by-option"
    assert _pytest(project, "--run-dir", str(by_option)).ret == 0
    monkeypatch.setenv("HARNESS_RUN_DIR", str(project.path / "by-env"))
    assert _pytest(project).ret == 0
    for run_dir in (by_option, project.path / "by-env"):
        record = json.loads((run_dir / "suites" / "unit.json").read_text())
        assert record["totals"] == {"passed": 2}
        assert (run_dir / "environment.json").is_file()
    assert not (project.path / "reports").exists()
