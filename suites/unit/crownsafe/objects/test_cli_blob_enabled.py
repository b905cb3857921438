"""migrate-objects writes to Azure: with AZURE_BLOB_ENABLED=false it refuses, and says so."""

from __future__ import annotations

import dataclasses

import pytest

from crownsafe.config import Settings
from crownsafe.objects.cli import main


def test_migrate_objects_refuses_when_azure_writes_are_off(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: object
) -> None:
    for field in dataclasses.fields(Settings):
        monkeypatch.delenv(field.name.upper(), raising=False)
    monkeypatch.chdir(str(tmp_path))
    monkeypatch.setenv("AZURE_BLOB_ENABLED", "false")
    status = main(["--source-bucket", "legacy-bucket", "--target-container", "images"])
    err = capsys.readouterr().err
    assert status == 2, err
    assert "AZURE_BLOB_ENABLED" in err and "Fix:" in err, err
