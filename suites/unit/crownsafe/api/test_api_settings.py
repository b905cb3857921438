"""The API's settings are checked when they are loaded, with messages naming the variable."""

from __future__ import annotations

import pytest

from crownsafe.config import load_settings
from crownsafe.errors import (
    ApiConfigError,
    ConfigError,
    StorageConfigError,
    WorkerConfigError,
)


def test_defaults_load() -> None:
    settings = load_settings({})
    assert settings.upload_max_bytes == 10 * 1024 * 1024
    assert settings.celery_task_time_limit < settings.celery_visibility_timeout
    assert settings.trusted_host_list == ["localhost", "127.0.0.1"]
    assert settings.broker_url == ""
    assert load_settings({"REDIS_URL": "redis://r:6379/0"}).broker_url == "redis://r:6379/0"


@pytest.mark.parametrize(
    "env,variable,kind",
    [
        ({"UPLOAD_MAX_BYTES": "0"}, "UPLOAD_MAX_BYTES", ApiConfigError),
        ({"UPLOAD_MAX_BYTES": "ten"}, "UPLOAD_MAX_BYTES", ApiConfigError),
        ({"JWT_SECRET": "short"}, "JWT_SECRET", ApiConfigError),
        (
            {"CORS_ORIGINS": "https://ok.example,https://x.example/path"},
            "CORS_ORIGINS",
            ApiConfigError,
        ),
        ({"TRUSTED_HOSTS": " , "}, "TRUSTED_HOSTS", ApiConfigError),
        (
            {"CELERY_VISIBILITY_TIMEOUT": "60", "CELERY_TASK_TIME_LIMIT": "60"},
            "CELERY_TASK_TIME_LIMIT",
            WorkerConfigError,
        ),
        ({"CELERY_TASK_TIME_LIMIT": "soon"}, "CELERY_TASK_TIME_LIMIT", WorkerConfigError),
    ],
)
def test_bad_values_name_the_variable(
    env: dict[str, str], variable: str, kind: type[ConfigError]
) -> None:
    """The API's and the worker's settings are their own kind of ConfigError, not storage's."""
    with pytest.raises(kind) as caught:
        load_settings(env)
    assert not isinstance(caught.value, StorageConfigError)
    assert variable in str(caught.value)
    secret = env.get("JWT_SECRET")
    assert not secret or secret not in str(caught.value)


def test_the_jwt_secret_minimum_is_hs256s_32_bytes() -> None:
    """Counted in bytes, as PyJWT and RFC 7518 count it: the two checks always agree."""
    assert load_settings({"JWT_SECRET": "é" * 16}).jwt_secret.get() == "é" * 16
    with pytest.raises(ApiConfigError) as caught:
        load_settings({"JWT_SECRET": "k" * 31})
    assert "JWT_SECRET is 31 bytes" in str(caught.value)
    assert "at least 32 bytes" in str(caught.value)


def test_an_api_without_jwt_secret_is_an_api_config_error() -> None:
    from crownsafe.api.app import create_app

    with pytest.raises(ApiConfigError, match="JWT_SECRET is not set") as caught:
        create_app(load_settings({}))
    assert not isinstance(caught.value, StorageConfigError)
    assert "Fix: set JWT_SECRET" in str(caught.value)


def test_a_worker_without_a_broker_is_a_worker_config_error() -> None:
    from crownsafe.tasks.celery_app import create_celery

    with pytest.raises(WorkerConfigError, match="no Celery broker") as caught:
        create_celery(load_settings({}))
    assert not isinstance(caught.value, StorageConfigError)


def test_a_storage_config_error_is_a_config_error_and_a_storage_error() -> None:
    from crownsafe.errors import StorageError

    error = StorageConfigError("S3_BUCKET is empty", backend="s3", hint="set S3_BUCKET")
    assert isinstance(error, ConfigError) and isinstance(error, StorageError)
    assert (error.reason, error.hint) == ("S3_BUCKET is empty", "set S3_BUCKET")
    assert str(error) == "[s3]: S3_BUCKET is empty. Fix: set S3_BUCKET"
