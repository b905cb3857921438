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
