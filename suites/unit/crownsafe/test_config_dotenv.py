"""`.env` in the working directory is read by load_settings; the environment wins."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from crownsafe.config import Settings, load_settings


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No crownsafe variable in the environment; the working directory is a temp dir."""
    for field in dataclasses.fields(Settings):
        monkeypatch.delenv(field.name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_dotenv_in_the_working_directory_is_read(clean_env: Path) -> None:
    """What `.env.example` says ("copy to .env") now works."""
    (clean_env / ".env").write_text(
        "# copied from .env.example\nSTORAGE_BACKEND=s3\nS3_BUCKET=from-dotenv\n"
        "AZURE_REGION='north europe'\nSTORAGE_MAX_RETRIES=5\n"
    )
    settings = load_settings()
    assert (settings.storage_backend, settings.s3_bucket) == ("s3", "from-dotenv")
    assert (settings.azure_region, settings.storage_max_retries) == ("north europe", 5)


def test_environment_variables_win_over_the_file_and_it_never_changes_os_environ(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean_env / ".env").write_text("S3_BUCKET=from-dotenv\nAWS_REGION=eu-west-1\n")
    monkeypatch.setenv("S3_BUCKET", "from-env")
    settings = load_settings()
    assert (settings.s3_bucket, settings.aws_region) == ("from-env", "eu-west-1")
    assert "AWS_REGION" not in os.environ


def test_without_a_dotenv_file_the_defaults_apply(clean_env: Path) -> None:
    assert load_settings() == Settings()


def test_an_explicit_mapping_ignores_the_dotenv_file(clean_env: Path) -> None:
    (clean_env / ".env").write_text("S3_BUCKET=from-dotenv\n")
    assert load_settings({}).s3_bucket == Settings().s3_bucket
