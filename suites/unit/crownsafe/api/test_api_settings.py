"""The API's settings are checked when they are loaded, with messages naming the variable."""

from __future__ import annotations

import pytest

from crownsafe.config import load_settings
from crownsafe.errors import StorageConfigError


def test_defaults_load() -> None:
    settings = load_settings({})
    assert settings.upload_max_bytes == 10 * 1024 * 1024
    assert settings.celery_task_time_limit < settings.celery_visibility_timeout
    assert settings.trusted_host_list == ["localhost", "127.0.0.1"]
    assert settings.broker_url == ""
    assert load_settings({"REDIS_URL": "redis://r:6379/0"}).broker_url == "redis://r:6379/0"


@pytest.mark.parametrize(
    "env,variable",
    [
        ({"UPLOAD_MAX_BYTES": "0"}, "UPLOAD_MAX_BYTES"),
        ({"UPLOAD_MAX_BYTES": "ten"}, "UPLOAD_MAX_BYTES"),
        ({"JWT_SECRET": "short"}, "JWT_SECRET"),
        ({"CORS_ORIGINS": "https://ok.example,https://x.example/path"}, "CORS_ORIGINS"),
        ({"TRUSTED_HOSTS": " , "}, "TRUSTED_HOSTS"),
        (
            {"CELERY_VISIBILITY_TIMEOUT": "60", "CELERY_TASK_TIME_LIMIT": "60"},
            "CELERY_TASK_TIME_LIMIT",
        ),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(StorageConfigError) as caught:
        load_settings(env)
    assert variable in str(caught.value)
    secret = env.get("JWT_SECRET")
    assert not secret or secret not in str(caught.value)
