"""A `load` run that made its own run folder renders that folder's report, so
`reports/latest/index.html` (where `reports/latest` now points) exists, as the README says.
The stack and locust are faked: `run_backend` returns a run of the golden load-only folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness import cli
from harness.commands import load as load_command
from harness.loadtest.runner import BackendOutcome
from harness.runfolder.io import read_file
from harness.runfolder.load import LoadFile

GOLDEN = Path("fixtures/golden_runs/generator_saturated")


@pytest.fixture
def fake_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    runs = read_file(GOLDEN, "load.json", LoadFile).runs

    def run_backend(options: object, backend: str, run_dir: Path, **_: object) -> BackendOutcome:
        run = next(r for r in runs if (r.backend, r.mode) == (backend, "duration"))
        return BackendOutcome(backend, run=run)

    monkeypatch.setattr(load_command, "run_backend", run_backend)


def test_a_load_run_in_its_own_folder_renders_the_report_latest_points_at(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fake_backend: None,
) -> None:
    monkeypatch.delenv("HARNESS_RUN_DIR", raising=False)
    monkeypatch.setenv("HARNESS_REPORTS_DIR", str(tmp_path))
    code = cli.main(["load", "--backend", "azure", "--duration", "5s"])
    out = capsys.readouterr().out
    latest = tmp_path / "latest"
    assert latest.is_symlink(), out
    page = latest / "index.html"
    assert page.is_file(), out
    html = page.read_text("utf-8")
    assert "run profile &#39;load&#39;" in html, "not judged by the load profile"
    assert f"report: {page.resolve()}" in out, out
    assert out.strip().splitlines()[-1].startswith("load: "), out  # load's verdict stays last
    assert code in (0, 1), out


def test_a_load_run_into_a_given_folder_leaves_its_report_alone(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fake_backend: None,
) -> None:
    """`run`'s load stage passes --run-dir: its report stage renders the whole folder."""
    run_dir = tmp_path / "given"
    shutil.copytree(GOLDEN, run_dir)
    cli.main(["load", "--backend", "azure", "--duration", "5s", "--run-dir", str(run_dir)])
    assert not (run_dir / "index.html").exists(), capsys.readouterr().out


def test_with_json_the_report_is_rendered_and_stdout_stays_one_object(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fake_backend: None,
) -> None:
    monkeypatch.delenv("HARNESS_RUN_DIR", raising=False)
    monkeypatch.setenv("HARNESS_REPORTS_DIR", str(tmp_path))
    cli.main(["load", "--backend", "azure", "--duration", "5s", "--json"])
    captured = capsys.readouterr()
    assert json.loads(captured.out)["run_dir"]
    assert (tmp_path / "latest" / "index.html").is_file(), captured.err
    assert "report: " in captured.err
