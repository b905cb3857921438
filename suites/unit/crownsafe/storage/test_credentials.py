"""The Azure credential rule: the factory's check and the client's resolver give one answer."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from unittest.mock import Mock

import pytest

from crownsafe.config import SecretStr, Settings
from crownsafe.errors import StorageConfigError
from crownsafe.storage.azure._auth import resolve_azure_auth
from crownsafe.storage.credentials import choose_azure_credential
from crownsafe.storage.factory import check_storage_settings

KEY = SecretStr("QUJDREVGR0g=")
URL = "https://acct.blob.core.windows.net"
CONNECTION = SecretStr(f"AccountName=acct;AccountKey={KEY.get()};EndpointSuffix=core.windows.net")
BASE = Settings(storage_backend="azure", azure_blob_enabled=True)

CASES = {
    "nothing": {},
    "connection-string": {"azure_storage_connection_string": CONNECTION},
    "url-and-key": {"azure_storage_account_url": URL, "azure_storage_account_key": KEY},
    "name-and-key": {"azure_storage_account_name": "acct", "azure_storage_account_key": KEY},
    "url-and-identity": {"azure_storage_account_url": URL, "azure_use_managed_identity": True},
    "key-wins-over-identity": {
        "azure_storage_account_url": URL,
        "azure_storage_account_key": KEY,
        "azure_use_managed_identity": True,
    },
    "url-only": {"azure_storage_account_url": URL},
    "name-only": {"azure_storage_account_name": "acct"},
    "key-only": {"azure_storage_account_key": KEY},
    "identity-only": {"azure_use_managed_identity": True},
}
AUTH_MODE = {"connection_string": "connection_string", "account_key": "account_key"}


def _outcome(call: Callable[[], object]) -> str:
    try:
        result = call()
    except StorageConfigError as exc:
        return f"error: {exc}"
    return f"ok: {result}"


@pytest.mark.parametrize("changes", CASES.values(), ids=CASES.keys())
def test_the_factory_and_the_client_apply_one_rule(changes: dict[str, object]) -> None:
    """Same settings, same verdict and same message from the factory's check, the client's
    credential resolver and the rule itself."""
    settings = dataclasses.replace(BASE, **changes)
    rule = _outcome(lambda: choose_azure_credential(settings).source)
    checked = _outcome(lambda: check_storage_settings(settings))
    resolved = _outcome(lambda: resolve_azure_auth(settings=settings, credential_factory=Mock).mode)
    if rule.startswith("error"):
        assert checked == resolved == rule
    else:
        source = rule.removeprefix("ok: ")
        assert checked == "ok: None"
        assert resolved == f"ok: {AUTH_MODE.get(source, 'token')}"
