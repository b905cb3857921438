"""The `predeploy` command: arguments, usage errors, a configuration that cannot load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import build_parser, main


def test_every_argument_has_help() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    predeploy = sub.choices["predeploy"]  # type: ignore[index]
    for action in predeploy._actions:
        assert action.help, action.dest


def test_unknown_skip_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["predeploy", "--dry-run", "--skip", "nope.*"]) == 2
    assert "matches no check id" in capsys.readouterr().err


def test_settings_that_do_not_load_exit_4(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STORAGE_BACKEND", "gcs")
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_KEY", "a-secret-key-value")
    junit = tmp_path / "out.xml"
    assert main(["predeploy", "--json", "--junit-xml", str(junit)]) == 4
    report = json.loads(capsys.readouterr().out)
    assert report["outcome"] == "could-not-run" and report["backend"] is None
    first = report["checks"][0]
    assert first["id"] == "config.settings-load" and first["status"] == "failed"
    assert "STORAGE_BACKEND" in first["hint"]
    assert {c["status"] for c in report["checks"][1:]} == {"skipped"}
    assert "a-secret-key-value" not in junit.read_text()


@pytest.mark.parametrize("flag", ["--json", "--junit-xml"])
def test_an_output_that_cannot_be_written_is_exit_4_and_the_last_line_says_so(
    flag: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The table's last line is the true exit code and why, not the checks' "exit 0"; the
    other output file, written, carries the same exit code."""
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    bad = str(blocker / "x.out")
    other = "--junit-xml" if flag == "--json" else "--json"
    good = tmp_path / "good.out"
    assert main(["predeploy", "--dry-run", flag, bad, other, str(good)]) == 4
    captured = capsys.readouterr()
    last = captured.out.strip().splitlines()[-1]
    assert "exit 4" in last and "exit 0" not in last.split("exit 4")[0], last
    assert f"cannot write {flag} {bad}" in last, last
    assert f"cannot write {flag} {bad}" in captured.err
    text = good.read_text(encoding="utf-8")
    if other == "--json":
        assert json.loads(text)["exit_code"] == 4
    else:
        assert '<property name="exit_code" value="4"' in text, text


def test_the_readme_table_lists_every_check() -> None:
    from harness.predeploy.checks import check_ids

    readme = (Path(__file__).resolve().parents[4] / "README.md").read_text("utf-8")
    missing = [i for i in check_ids() if f"| `{i}` |" not in readme]
    assert missing == [], f"README's predeploy table lacks {missing}"
