"""Values that would only fail later (a 403, a retry storm) are refused when settings load."""

from __future__ import annotations

import dataclasses

import pytest

from crownsafe.config import SecretStr, Settings, load_settings
from crownsafe.errors import StorageConfigError
from crownsafe.storage.factory import check_storage_settings

EMULATOR_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
NOT_BASE64 = "my-storage-key!SECRETPART"
ACCOUNT = {
    "AZURE_STORAGE_ACCOUNT_URL": "https://acct.blob.core.windows.net",
    "AZURE_STORAGE_ACCOUNT_KEY": EMULATOR_KEY,
}


@pytest.mark.parametrize("value", ["11", "1000", "-1"])
def test_max_retries_outside_0_to_10_is_refused_at_load(value: str) -> None:
    """STORAGE_MAX_RETRIES=1000 is an error naming the allowed range, not a silent retry storm."""
    with pytest.raises(StorageConfigError) as caught:
        load_settings({"STORAGE_MAX_RETRIES": value})
    message = str(caught.value)
    assert "STORAGE_MAX_RETRIES" in message and value in message
    assert "0..10" in message and "Fix:" in message


@pytest.mark.parametrize("value", ["0", "10"])
def test_max_retries_bounds_are_allowed(value: str) -> None:
    assert load_settings({"STORAGE_MAX_RETRIES": value}).storage_max_retries == int(value)


def test_max_retries_out_of_range_in_code_is_refused_by_the_check() -> None:
    """Settings built in code get the same rule from check_storage_settings."""
    settings = Settings(storage_backend="s3", aws_region="us-east-1", storage_max_retries=1000)
    with pytest.raises(StorageConfigError, match=r"STORAGE_MAX_RETRIES=1000.*0\.\.10"):
        check_storage_settings(settings)


@pytest.mark.parametrize("key", [NOT_BASE64, "abc", "a" * 86 + "="])
def test_account_key_must_be_base64_and_is_never_echoed(key: str) -> None:
    """A key that is not base64 fails at load with a clear message that does not show it."""
    with pytest.raises(StorageConfigError) as caught:
        load_settings({**ACCOUNT, "AZURE_STORAGE_ACCOUNT_KEY": key})
    message = str(caught.value)
    assert "AZURE_STORAGE_ACCOUNT_KEY" in message and "base64" in message
    assert key not in message and "SECRETPART" not in message
    assert "Fix:" in message


def test_a_base64_account_key_loads() -> None:
    settings = load_settings(ACCOUNT)
    assert settings.azure_storage_account_key.get() == EMULATOR_KEY


def test_account_key_in_a_connection_string_is_checked_too() -> None:
    """AccountKey= inside AZURE_STORAGE_CONNECTION_STRING gets the base64 rule as well."""
    settings = Settings(
        azure_blob_enabled=True,
        azure_storage_connection_string=SecretStr(
            f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={NOT_BASE64};"
            "EndpointSuffix=core.windows.net"
        ),
    )
    with pytest.raises(StorageConfigError) as caught:
        check_storage_settings(settings)
    message = str(caught.value)
    assert "AccountKey" in message and "base64" in message
    assert "SECRETPART" not in message
    check_storage_settings(
        dataclasses.replace(
            settings,
            azure_storage_connection_string=SecretStr(
                f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={EMULATOR_KEY};"
                "EndpointSuffix=core.windows.net"
            ),
        )
    )
