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
