"""One judge per question: every command that judges a run folder agrees with the report.

Each golden run folder (fixtures/golden_runs) is judged by the commands a user runs and by
the report; the verdicts and their reasons must be the same, because both read one rule
on the run-folder model.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.loadtest.runner import BackendOutcome
from harness.loadtest.verdict import EXIT_BREACH, EXIT_OK, breaches, exit_code
from harness.report import analyse, read_inputs
from harness.runfolder import read_run
from harness.runfolder.load import LoadRun

GOLDEN = Path(__file__).resolve().parents[3] / "fixtures" / "golden_runs"
WITH_LOAD = sorted(p.parent.name for p in GOLDEN.glob("*/load.json"))


def _runs(name: str) -> list[LoadRun]:
    load = read_run(GOLDEN / name).load
    return load.runs if load is not None else []


def test_the_golden_runs_hold_load_runs_of_every_mode() -> None:
    modes = {r.mode for name in WITH_LOAD for r in _runs(name)}
    assert modes >= {"duration", "step", "soak"}


@pytest.mark.parametrize("name", WITH_LOAD)
def test_the_load_command_and_the_report_judge_each_golden_load_json_alike(
    tmp_path: Path, name: str
) -> None:
    run_dir = tmp_path / name
    shutil.copytree(GOLDEN / name, run_dir)
    load = read_run(run_dir).load
    assert load is not None
    command = [line for run in load.runs for line in breaches(run)]
    code = exit_code([BackendOutcome(run.backend, run=run) for run in load.runs])
    findings = analyse(read_inputs(run_dir))
    report = [reason for found in findings.load for reason in found.reasons]
    assert command == report
    assert code == (EXIT_BREACH if report else EXIT_OK)
    assert all(reason in findings.verdict.reasons for reason in report)
    for backend in {run.backend for run in load.runs}:
        item = next(i for i in findings.verdict.items if i.label.startswith(f"load on {backend}"))
        mine = [r for r in load.runs if r.backend == backend]
        assert (item.status == "failed") == any(r.broken_promises() for r in mine)


ALL_GOLDEN = sorted(p.name for p in GOLDEN.iterdir() if p.is_dir())


def _judged_by_the_three(
    tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> dict[str, tuple[str, list[str], list[str]]]:
    """The verdict of `bench --gate-only --json`, `report --json` and `run`'s summary
    (its report stage, which then writes summary.json) on one copy of a golden folder."""
    import json

    from harness import cli
    from harness.runfolder.summary import RunSummaryFile
    from harness.stages import RunContext, run_stages

    monkeypatch.setenv("HARNESS_REPORTS_DIR", str(tmp_path / "reports"))  # no baseline file
    monkeypatch.delenv("HARNESS_RUN_DIR", raising=False)
    run_dir = tmp_path / name
    shutil.copytree(GOLDEN / name, run_dir)
    seen: dict[str, tuple[str, list[str], list[str]]] = {}

    capsys.readouterr()
    code = cli.main(["bench", "--gate-only", "--json", "--run-dir", str(run_dir)])
    gate = json.loads(capsys.readouterr().out)["verdict"]
    assert code == gate["exit_code"]
    seen["bench --gate-only"] = (gate["outcome"], gate["reasons"], gate["missing"])

    code = cli.main(["report", str(run_dir), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == report["exit_code"]
    seen["report"] = (report["outcome"], report["reasons"], report["missing"])

    ctx = RunContext(root=run_dir, run_dir=run_dir, backends=["azure", "s3"], mode="external")
    ctx.print = lambda _line: None
    code = run_stages(ctx, ["report"])
    summary = RunSummaryFile.model_validate_json((run_dir / RunSummaryFile.FILE).read_text())
    assert code == summary.exit_code
    seen["run"] = (summary.outcome, summary.reasons, summary.missing)
    return seen


@pytest.mark.parametrize("name", ALL_GOLDEN)
def test_bench_gate_only_report_and_run_give_each_golden_run_one_verdict(
    tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen = _judged_by_the_three(tmp_path, name, monkeypatch, capsys)
    assert seen["bench --gate-only"] == seen["report"] == seen["run"], seen


def test_the_golden_runs_cover_every_outcome(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The agreement above is worth something only when the goldens differ: a ready, a
    not ready (with API goals among its reasons) and an incomplete run."""
    outcomes = {}
    for name in ("full_pass", "not_ready", "minimal"):
        seen = _judged_by_the_three(tmp_path / name, name, monkeypatch, capsys)
        outcomes[name] = seen["bench --gate-only"]
    assert [o[0] for o in outcomes.values()] == ["ready", "not ready", "incomplete"]
    assert any(r.startswith("API goal") for r in outcomes["not_ready"][1])
