"""The `suites` stage of `crownsafe-harness run` runs the suites its run profile names."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from harness import stages
from harness.report import build_report
from harness.report.profile import read_run_profile
from harness.runfolder.io import read_file
from harness.runfolder.summary import RunSummaryFile
from harness.stages import RunContext, suite_paths


def test_the_default_profile_s_suites_are_the_run_s_suites() -> None:
    """One list: the default run profile's `[[suites]]`, in its order."""
    names = [suite.name for suite in read_run_profile("default").suites]
    assert suite_paths(None, ["azure", "s3"]) == tuple(f"suites/{n}" for n in names)
    assert suite_paths("contract", ["azure", "s3"]) == ("suites/contract",)


def test_the_default_profile_requires_the_security_suite_on_both_backends() -> None:
    """`make run` runs suites/security (issue 21): the profile names it, on Azure and S3."""
    suites = {suite.name: suite for suite in read_run_profile("default").suites}
    assert "security" in suites
    assert sorted(suites["security"].backends) == ["azure", "s3"]
    assert "suites/security" in suite_paths(None, ["azure", "s3"])


def test_the_migration_suite_needs_both_backends() -> None:
    assert "suites/migration" not in suite_paths("default", ["s3"])
    assert "suites/migration" in suite_paths("default", ["s3", "azure"])


def test_the_stage_runs_the_profile_s_suites(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("contract", "unit"):
        (tmp_path / "suites" / name).mkdir(parents=True)
    profile = tmp_path / "mine.toml"
    profile.write_text('name = "mine"\n[[suites]]\nname = "unit"\n[migration]\nrequired = false\n')
    seen: list[list[str]] = []

    def fake_run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        seen.append(command)
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr("harness.stages.run_child", fake_run)
    ctx = RunContext(
        root=tmp_path, run_dir=tmp_path / "run", backends=["azure", "s3"], mode="external",
        workers=0, run_profile=str(profile), print=lambda line: None,
    )  # fmt: skip
    assert stages.STAGES["suites"].run(ctx).ok
    (command,) = seen
    assert "suites/unit" in command and "suites/contract" not in command


def test_a_profile_whose_suites_do_not_exist_fails_the_stage_naming_them(tmp_path: Path) -> None:
    ctx = RunContext(
        root=tmp_path, run_dir=tmp_path / "run", backends=["azure", "s3"], mode="external",
        run_profile="contract", print=lambda line: None,
    )  # fmt: skip
    result = stages.STAGES["suites"].run(ctx)
    assert not result.ok and "suites/contract" in result.detail


def test_a_failed_stage_is_a_reason_of_the_one_verdict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stage that fails without a result file of its own (here: one that raises) is in
    stages.json, so the report stage's verdict, `report` later and summary.json agree:
    not ready, naming the stage (summary.json once said "ready" with exit 1)."""
    profile = tmp_path / "none.toml"
    profile.write_text('name = "none"\n[migration]\nrequired = false\n')

    def broken(ctx: RunContext) -> stages.StageResult:
        raise RuntimeError("the load generator could not start")

    monkeypatch.setitem(stages.STAGES, "load", stages.Stage("load", "fails", broken))
    ctx = RunContext(
        root=tmp_path, run_dir=tmp_path / "run", backends=["azure", "s3"], mode="external",
        workers=0, run_profile=str(profile), print=lambda line: None,
    )  # fmt: skip
    ctx.run_dir.mkdir()
    code = stages.run_stages(ctx, ["load", "report"])
    reason = "stage load failed: RuntimeError: the load generator could not start"
    summary = read_file(ctx.run_dir, RunSummaryFile.FILE, RunSummaryFile)
    assert (code, summary.outcome, summary.exit_code) == (1, "not ready", 1)
    assert reason in summary.reasons
    assert ctx.verdict is not None and reason in ctx.verdict.reasons
    again = build_report(ctx.run_dir, profile=str(profile)).findings.verdict
    assert (again.outcome, again.reasons) == (summary.outcome, summary.reasons)
