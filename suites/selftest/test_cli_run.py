"""`crownsafe-harness`: stage sequencing, exit codes, the summary, `services up`, each
command's help, and `bench` leaving its caller's environment alone."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from harness import cli, stages
from harness.stages import RunContext, Stage, StageResult, run_stages

GOLDEN = Path(__file__).resolve().parents[2] / "fixtures" / "golden_runs"


def _context(tmp_path: Path, lines: list[str], profile: str | None = "contract") -> RunContext:
    return RunContext(
        root=tmp_path,
        run_dir=tmp_path,
        backends=["azure", "s3"],
        mode="local",
        run_profile=profile,
        print=lines.append,
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
    assert "contract  s3" in text and text.endswith("verdict: READY (run profile contract)")


def test_a_run_that_assessed_less_than_the_profile_is_incomplete_exit_3(
    tmp_path: Path, fake_stages: dict[str, list[str]]
) -> None:
    """All its tests pass, but the default profile needs more than a contract run: exit 3."""
    lines: list[str] = []
    _write_suite(tmp_path, "passed")
    assert run_stages(_context(tmp_path, lines, profile=None), ["good"]) == 3
    verdict_at = lines.index("verdict: INCOMPLETE (run profile default)")
    missing = lines[verdict_at + 1 :]
    assert "  - resilience suite: not assessed (did not run)" in missing
    assert all(line.startswith("  - ") for line in missing)


def test_a_failed_test_fails_the_run(tmp_path: Path, fake_stages: dict[str, list[str]]) -> None:
    """Stages all fine but one test failed in the run folder: exit 1."""
    lines: list[str] = []
    _write_suite(tmp_path, "failed")
    assert run_stages(_context(tmp_path, lines), ["good"]) == 1
    assert lines[-2:] == [
        "verdict: NOT READY (run profile contract)",
        "  - 1 failed test(s) in suite contract [s3]",
    ]


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


def test_default_run_measures_benchmarks_load_and_the_cutover_then_writes_the_report() -> None:
    assert stages.DEFAULT_STAGES == (
        "bootstrap",
        "services",
        "suites",
        "benchmarks",
        "load",
        "cutover",
        "report",
    )


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
    ctx.bench_level = "full" if full else "quick"
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
    assert lines[-2] == "verdict: READY (run profile contract)"
    assert lines[-1] == f"report: {tmp_path / 'index.html'}"
    assert (tmp_path / "index.html").is_file()


def _subparsers(parser: argparse.ArgumentParser) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """Every (command path, parser) below `parser`, e.g. ("services up", <parser>)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield name, sub
                for deeper, subsub in _subparsers(sub):
                    yield f"{name} {deeper}", subsub


COMMAND_PATHS = [path for path, _ in _subparsers(cli.build_parser())]


def test_every_command_module_is_registered() -> None:
    assert COMMAND_PATHS == [
        "run",
        "services",
        "services up",
        "report",
        "bench",
        "migrate-objects",
        "predeploy",
        "token",
        "load",
        "cutover",
        "audit",
        "inspect-url",
    ]


@pytest.mark.parametrize("path", COMMAND_PATHS)
def test_every_command_and_argument_has_help(path: str) -> None:
    parser = dict(_subparsers(cli.build_parser()))[path]
    assert parser.description, f"{path}: no description"
    undocumented = [
        action.dest
        for action in parser._actions
        if not isinstance(action, argparse._SubParsersAction)
        and (not action.help or action.help == argparse.SUPPRESS)
    ]
    assert not undocumented, f"{path}: arguments without help: {undocumented}"


@pytest.mark.parametrize("path", COMMAND_PATHS)
def test_help_of_each_command_prints_its_full_help(
    path: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`crownsafe-harness <command> --help` lists the command's own options and exits 0."""
    parser = dict(_subparsers(cli.build_parser()))[path]
    with pytest.raises(SystemExit) as caught:
        cli.main([*path.split(), "--help"])
    assert caught.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: crownsafe-harness {path} ")
    for action in parser._actions:
        for flag in action.option_strings:
            assert flag in out, f"{path} --help does not show {flag}"


def _benchmark_json() -> dict[str, Any]:
    stats = {"median": 0.01, "data": [0.01, 0.011, 0.0105]}
    entry = {"name": "test_a[s3]", "fullname": "benchmarks/x.py::test_a[s3]", "stats": stats}
    return {"benchmarks": [entry]}


@pytest.fixture
def gated_run(tmp_path: Path) -> tuple[Path, Path]:
    """A run folder holding benchmarks.json, and a baseline file equal to it."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "benchmarks.json").write_text(json.dumps(_benchmark_json()))
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps(_benchmark_json()))
    return run_dir, baseline


def test_bench_does_not_change_the_callers_environment(gated_run: tuple[Path, Path]) -> None:
    run_dir, baseline = gated_run
    before = dict(os.environ)
    argv = ["bench", "--gate-only", "--run-dir", str(run_dir), "--baseline", str(baseline)]
    argv += ["--profile", "bench"]  # the folder holds benchmarks only
    assert cli.main(argv) == 0
    assert dict(os.environ) == before
    assert json.loads((run_dir / "bench" / "gate.json").read_text())["passed"] is True


def test_bench_gate_only_without_run_dir_gates_the_latest_folder_and_makes_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("HARNESS_RUN_DIR", raising=False)
    monkeypatch.setenv("HARNESS_REPORTS_DIR", str(tmp_path))
    older, newest = tmp_path / "runs" / "20260101T000000Z", tmp_path / "runs" / "20260102T000000Z"
    older.mkdir(parents=True)
    shutil.copytree(GOLDEN / "not_ready", newest)
    before = dict(os.environ)
    assert cli.main(["bench", "--gate-only"]) == 1
    assert dict(os.environ) == before
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [older.name, newest.name]
    assert not (tmp_path / "latest").exists()
    out = capsys.readouterr().out
    assert f"bench: results in {newest}" in out and "verdict: NOT READY" in out


def test_bench_gate_only_follows_latest_and_leaves_it_where_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("HARNESS_RUN_DIR", raising=False)
    monkeypatch.setenv("HARNESS_REPORTS_DIR", str(tmp_path))
    shutil.copytree(GOLDEN / "full_pass", tmp_path / "runs" / "a")
    (tmp_path / "runs" / "b").mkdir()
    (tmp_path / "latest").symlink_to("runs/a")
    assert cli.main(["bench", "--gate-only"]) == 0
    assert os.readlink(tmp_path / "latest") == "runs/a"
    assert f"bench: results in {tmp_path / 'runs' / 'a'}" in capsys.readouterr().out


def test_bench_gate_only_without_any_run_folder_is_a_usage_error_and_makes_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("HARNESS_RUN_DIR", raising=False)
    monkeypatch.setenv("HARNESS_REPORTS_DIR", str(tmp_path))
    assert cli.main(["bench", "--gate-only"]) == 2
    assert list(tmp_path.iterdir()) == []
    err = capsys.readouterr().err
    assert "no run folder under" in err and "--run-dir" in err
    assert cli.main(["bench", "--gate-only", "--run-dir", str(tmp_path / "nosuch")]) == 2
    assert not (tmp_path / "nosuch").exists()
    assert "is not a run folder" in capsys.readouterr().err


def test_bench_passes_the_run_folder_to_the_child_pytest(
    gated_run: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The child pytest gets --run-dir and the extra arguments after --; os.environ stays."""
    run_dir, baseline = gated_run
    calls: list[tuple[list[str], dict[str, Any]]] = []

    def fake_run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append((cmd, kwargs))
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr("harness.bench.command.run_child", fake_run)
    before = dict(os.environ)
    argv = ["bench", "--run-dir", str(run_dir), "--baseline", str(baseline), "--", "-k", "up"]
    assert cli.main(argv) == 0
    assert dict(os.environ) == before
    [(cmd, kwargs)] = calls
    assert f"--run-dir={run_dir}" in cmd
    assert cmd[-2:] == ["-k", "up"]
    assert "env" not in kwargs


def test_bench_in_a_shared_run_folder_is_judged_on_its_benchmarks_alone(
    gated_run: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """run's benchmarks stage runs bench into the folder the suites wrote first: a failed
    suite test is the run's reason, not the benchmarks stage's; --gate-only (the whole
    folder, as the report) names it."""
    run_dir, baseline = gated_run
    _write_suite(run_dir, "failed")
    monkeypatch.setattr(
        "harness.bench.command.run_child", lambda cmd, **_: subprocess.CompletedProcess(cmd, 0)
    )
    assert cli.main(["bench", "--run-dir", str(run_dir), "--baseline", str(baseline)]) == 0
    gate = ["bench", "--gate-only", "--run-dir", str(run_dir), "--baseline", str(baseline)]
    assert cli.main([*gate, "--profile", "bench"]) == 1


def test_migrate_objects_runs_the_products_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Same arguments, same run and exit status as `crownsafe-migrate-objects`."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert cli.main(["migrate-objects", "--database-url", "sqlite:///x.db", "--dry-run"]) == 2
    assert "crownsafe needs PostgreSQL" in capsys.readouterr().err


@pytest.mark.parametrize("json_flag", [[], ["--json"]], ids=["table", "json"])
def test_an_unknown_profile_is_a_usage_error_that_leaves_no_run_folder(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    json_flag: list[str],
) -> None:
    """Usage errors are found before the run folder is made: no empty folder, `latest` kept."""
    monkeypatch.delenv("HARNESS_RUN_DIR", raising=False)
    monkeypatch.setenv("HARNESS_REPORTS_DIR", str(tmp_path))
    earlier = tmp_path / "runs" / "earlier"
    earlier.mkdir(parents=True)
    (tmp_path / "latest").symlink_to(Path("runs") / "earlier")
    assert cli.main(["run", "--profile", "nosuch", *json_flag]) == 2
    captured = capsys.readouterr()
    assert "nosuch" in captured.out + captured.err
    assert [p.name for p in (tmp_path / "runs").iterdir()] == ["earlier"]
    assert (tmp_path / "latest").resolve() == earlier.resolve()
    if json_flag:
        assert json.loads(captured.out)["exit_code"] == 2
