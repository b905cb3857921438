"""Settings from the environment: parsing, typed errors, secrets that never print, and
.env.example naming every setting."""

from __future__ import annotations

import dataclasses
from dataclasses import fields
from pathlib import Path

import pytest

from crownsafe.config import SecretStr, Settings, load_settings
from crownsafe.errors import StorageConfigError

SECRET_VALUES = {
    "AZURE_STORAGE_CONNECTION_STRING": "AccountKey=CONNSTRSECRET==;AccountName=acct",
    "AZURE_STORAGE_ACCOUNT_KEY": "ACCOUNTKEYSECRET==",
    "AWS_SECRET_ACCESS_KEY": "AWSSECRETVALUE",
    "DATABASE_URL": "postgresql://user:DBPASSWORDSECRET@db/crownsafe",
    "JWT_SECRET": "JWTSIGNINGKEYSECRET-0123456789abcdef",
}


def test_defaults_with_an_empty_environment() -> None:
    settings = load_settings({})
    assert settings == Settings()
    assert settings.storage_backend == "azure"
    assert settings.container == "crownsafe-images"
    assert settings.storage_resilient is True
    assert settings.storage_max_retries == 3


def test_every_field_is_read_from_its_upper_case_name() -> None:
    env = {
        "STORAGE_BACKEND": " S3 ",
        "AZURE_BLOB_ENABLED": "true",
        "AZURE_STORAGE_ACCOUNT_URL": " https://acct.blob.core.windows.net ",
        "AZURE_STORAGE_ACCOUNT_NAME": "acct",
        "AZURE_USE_MANAGED_IDENTITY": "yes",
        "AZURE_STORAGE_CONTAINER": "images",
        "AZURE_REGION": "northeurope",
        "AZURE_CONNECTION_VERIFY": "/tmp/cert.pem",
        "S3_BUCKET": "bucket-1",
        "AWS_REGION": "eu-west-1",
        "S3_ENDPOINT_URL": "http://127.0.0.1:5000",
        "AWS_ACCESS_KEY_ID": "AKID",
        "STORAGE_MAX_RETRIES": "5",
        "STORAGE_RETRY_BASE_DELAY": "0.25",
        "STORAGE_TIMEOUT_SECONDS": "12.5",
        "STORAGE_RESILIENT": "off",
        "REDIS_URL": "redis://127.0.0.1:6380/0",
        **SECRET_VALUES,
    }
    settings = load_settings(env)
    assert settings.storage_backend == "s3"
    assert settings.container == "bucket-1"
    assert settings.azure_blob_enabled is True
    assert settings.azure_use_managed_identity is True
    assert settings.storage_resilient is False
    assert settings.azure_storage_account_url == "https://acct.blob.core.windows.net"
    assert (settings.azure_storage_container, settings.azure_region) == ("images", "northeurope")
    assert (settings.s3_bucket, settings.aws_region) == ("bucket-1", "eu-west-1")
    assert settings.s3_endpoint_url == "http://127.0.0.1:5000"
    assert settings.storage_max_retries == 5 and isinstance(settings.storage_max_retries, int)
    assert settings.storage_retry_base_delay == 0.25
    assert settings.storage_timeout_seconds == 12.5
    assert settings.azure_storage_account_key.get() == "ACCOUNTKEYSECRET=="
    assert settings.aws_secret_access_key.get() == "AWSSECRETVALUE"
    assert settings.database_url.get() == SECRET_VALUES["DATABASE_URL"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("TRUE", True), ("on", True), ("0", False), ("No", False), ("", False)],
)
def test_booleans(raw: str, expected: bool) -> None:
    assert load_settings({"STORAGE_RESILIENT": raw}).storage_resilient is expected


@pytest.mark.parametrize(
    ("name", "raw", "fragment"),
    [
        ("STORAGE_RESILIENT", "maybe", "is not a boolean"),
        ("AZURE_USE_MANAGED_IDENTITY", "2", "is not a boolean"),
        ("STORAGE_MAX_RETRIES", "three", "is not a whole number"),
        ("STORAGE_MAX_RETRIES", "3.7", "is not a whole number"),
        ("STORAGE_TIMEOUT_SECONDS", "30s", "is not a finite number"),
        ("STORAGE_TIMEOUT_SECONDS", "nan", "is not a finite number"),
        ("STORAGE_BACKEND", "gcs", "not a known backend"),
    ],
)
def test_bad_values_name_the_variable(name: str, raw: str, fragment: str) -> None:
    with pytest.raises(StorageConfigError) as caught:
        load_settings({name: raw})
    message = str(caught.value)
    assert fragment in message
    assert name in message
    assert f"Fix: set {name}" in message


def test_secret_str_never_shows_its_value() -> None:
    secret = SecretStr("hunter2")
    assert "hunter2" not in repr(secret)
    assert "hunter2" not in str(secret)
    assert "hunter2" not in f"{secret} {secret!r}"
    assert secret.get() == "hunter2"
    assert bool(secret) and not SecretStr("")
    assert secret == SecretStr("hunter2") and secret != SecretStr("other")
    assert secret != "hunter2"
    assert repr(SecretStr("")) == "SecretStr('')"


def test_settings_repr_hides_every_secret() -> None:
    settings = load_settings(SECRET_VALUES)
    for text in (repr(settings), str(settings), f"{settings}", repr(dataclasses.asdict(settings))):
        for value in ("CONNSTRSECRET", "ACCOUNTKEYSECRET", "AWSSECRETVALUE", "DBPASSWORDSECRET"):
            assert value not in text
    assert "SecretStr('**********')" in repr(settings)


def test_secret_fields_are_exactly_the_secret_settings() -> None:
    secret_fields = {f.name for f in dataclasses.fields(Settings) if f.type == "SecretStr"}
    assert secret_fields == {name.lower() for name in SECRET_VALUES}


REPO = Path(__file__).resolve().parents[3]


def test_env_example_lists_every_setting() -> None:
    """.env.example names every Settings variable, the original backend's four first, and parses."""
    lines = (REPO / ".env.example").read_text().splitlines()
    values = dict(
        line.split("=", 1) for line in lines if line and not line.startswith("#") and "=" in line
    )
    assert {f.name.upper() for f in fields(Settings)} <= set(values)
    assert list(values)[:4] == [
        "AZURE_BLOB_ENABLED",
        "AZURE_STORAGE_CONNECTION_STRING",
        "AZURE_STORAGE_CONTAINER",
        "AZURE_REGION",
    ]
    settings = load_settings(values)
    assert settings.azure_storage_container == "crownsafe-images"
