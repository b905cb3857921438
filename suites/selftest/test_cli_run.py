"""`crownsafe-harness`: stage sequencing, exit codes, the summary, and `services up`."""

from __future__ import annotations

import json
from pathlib import Path

import psutil
import pytest

from harness import cli, stages
from harness.stages import RunContext, Stage, StageResult, run_stages


def _context(tmp_path: Path, lines: list[str]) -> RunContext:
    return RunContext(
        root=tmp_path, run_dir=tmp_path, backends=["azure", "s3"], mode="local", print=lines.append
    )


def _write_suite(run_dir: Path, outcome: str) -> None:
    (run_dir / "suites").mkdir(exist_ok=True)
    tests = [{"nodeid": "t[azure]", "backend": "azure", "outcome": "passed"}]
    tests.append({"nodeid": "t[s3]", "backend": "s3", "outcome": outcome})
    (run_dir / "suites" / "contract.json").write_text(
        json.dumps({"suite": "contract", "tests": tests})
    )


@pytest.fixture
def fake_stages(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    calls: dict[str, list[str]] = {"ran": []}

    def make(name: str, ok: bool) -> Stage:
        def run(ctx: RunContext) -> StageResult:
            calls["ran"].append(name)
            return StageResult(ok, f"{name} detail")

        return Stage(name, f"{name} stage", run)

    for name, ok in (("good", True), ("bad", False), ("services", False), ("after", True)):
        monkeypatch.setitem(stages.STAGES, name, make(name, ok))
    return calls


def test_all_stages_pass_and_tests_pass(tmp_path: Path, fake_stages: dict[str, list[str]]) -> None:
    lines: list[str] = []
    _write_suite(tmp_path, "passed")
    assert run_stages(_context(tmp_path, lines), ["good", "after"]) == 0
    text = "\n".join(lines)
    assert "==> [1/2] good: good stage" in text and "<== after ok in" in text
    assert "contract  s3" in text and text.endswith("RESULT: passed")


def test_a_failed_test_fails_the_run(tmp_path: Path, fake_stages: dict[str, list[str]]) -> None:
    """Stages all fine but one test failed in the run folder: exit 1."""
    lines: list[str] = []
    _write_suite(tmp_path, "failed")
    assert run_stages(_context(tmp_path, lines), ["good"]) == 1
    assert lines[-1] == "RESULT: FAILED"


def test_a_failed_stage_fails_the_run_and_later_stages_still_run(
    tmp_path: Path, fake_stages: dict[str, list[str]]
) -> None:
    lines: list[str] = []
    assert run_stages(_context(tmp_path, lines), ["bad", "after"]) == 1
    assert fake_stages["ran"] == ["bad", "after"]
    assert any("<== bad FAILED" in line for line in lines)


def test_a_failed_service_start_stops_the_run(
    tmp_path: Path, fake_stages: dict[str, list[str]]
) -> None:
    assert run_stages(_context(tmp_path, []), ["services", "after"]) == 1
    assert fake_stages["ran"] == ["services"]


def test_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["run", "--backends", "gcs"])
    assert caught.value.code == 2
    with pytest.raises(SystemExit):
        cli.main(["run", "--stages", "suites,coffee"])
    assert "unknown stage" in capsys.readouterr().err


def test_delegated_command_missing_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    run = cli._delegate("harness.no_such_module", "main", "demo")
    assert run([]) == 2
    assert "harness.no_such_module.main is not available" in capsys.readouterr().err


def test_services_up_prints_exports_and_stops(capsys: pytest.CaptureFixture[str]) -> None:
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    assert cli.main(["services", "up", "--services", "redis", "--seconds", "0.1"]) == 0
    out = capsys.readouterr().out
    assert "export REDIS_URL=redis://127.0.0.1:" in out
    assert "export HARNESS_REDIS_URL=redis://127.0.0.1:" in out
    assert out.rstrip().endswith("# services stopped")
    after = {p.pid for p in psutil.Process().children(recursive=True)}
    assert after <= before


def test_a_stage_that_crashes_is_reported_not_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(ctx: RunContext) -> StageResult:
        raise RuntimeError("renderer exploded")

    monkeypatch.setitem(stages.STAGES, "crash", Stage("crash", "crashing stage", crash))
    lines: list[str] = []
    assert run_stages(_context(tmp_path, lines), ["crash"]) == 1
    assert any("<== crash FAILED" in line and "renderer exploded" in line for line in lines)


def test_default_run_measures_benchmarks_then_writes_the_report() -> None:
    assert stages.DEFAULT_STAGES == ("bootstrap", "services", "suites", "benchmarks", "report")


@pytest.mark.parametrize(("full", "profile_flag"), [(False, []), (True, ["--full"])])
def test_benchmark_stage_runs_bench_with_the_run_folder_and_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, full: bool, profile_flag: list[str]
) -> None:
    seen: list[list[str]] = []

    def fake_bench(argv: list[str]) -> int:
        seen.append(argv)
        return 0

    monkeypatch.setattr("harness.bench.command.main", fake_bench)
    ctx = _context(tmp_path, [])
    ctx.bench_profile = "full" if full else "quick"
    result = stages.STAGES["benchmarks"].run(ctx)
    assert result.ok and ("full" if full else "quick") in result.detail
    assert seen == [
        [
            "--run-dir",
            str(tmp_path),
            "--backends",
            "azure,s3",
            "--provision",
            "local",
            *profile_flag,
        ]
    ]


def test_the_run_ends_with_the_report_path(tmp_path: Path) -> None:
    lines: list[str] = []
    _write_suite(tmp_path, "passed")
    assert run_stages(_context(tmp_path, lines), ["report"]) == 0
    assert lines[-2] == "RESULT: passed"
    assert lines[-1] == f"report: {tmp_path / 'index.html'}"
    assert (tmp_path / "index.html").is_file()
