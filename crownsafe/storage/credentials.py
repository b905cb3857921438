"""The Azure credential rule: which configured way of reaching the account applies.

One rule, read by two callers: `crownsafe.storage.factory` checks it before any client
(or SDK) is imported, and `crownsafe.storage.azure._auth` follows it to build the client's
credential. It lives outside the `azure` package because importing that package loads the
SDK. Pure logic: it reads `Settings` and raises `StorageConfigError` naming the variables
to set; it never creates a credential.

The order: a connection string; else an account (AZURE_STORAGE_ACCOUNT_URL, or the URL
made from AZURE_STORAGE_ACCOUNT_NAME) with its key; else that account with managed
identity (AZURE_USE_MANAGED_IDENTITY=true).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from crownsafe.config import Settings
from crownsafe.errors import StorageConfigError

__all__ = [
    "AZURE_SETUP_HINT",
    "AzureCredentialChoice",
    "AzureCredentialSource",
    "azure_account_url",
    "choose_azure_credential",
]

AZURE_SETUP_HINT = (
    "set AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT_URL (or "
    "AZURE_STORAGE_ACCOUNT_NAME) with AZURE_STORAGE_ACCOUNT_KEY or "
    "AZURE_USE_MANAGED_IDENTITY=true"
)

AzureCredentialSource = Literal["connection_string", "account_key", "managed_identity"]


@dataclass(frozen=True)
class AzureCredentialChoice:
    """What the settings say to use; `account_url` is empty for a connection string (it
    names its own endpoint)."""

    source: AzureCredentialSource
    account_url: str = ""


def azure_account_url(settings: Settings) -> str:
    """AZURE_STORAGE_ACCOUNT_URL, else the public endpoint of AZURE_STORAGE_ACCOUNT_NAME."""
    if settings.azure_storage_account_url:
        return settings.azure_storage_account_url
    name = settings.azure_storage_account_name
    return f"https://{name}.blob.core.windows.net" if name else ""


def choose_azure_credential(settings: Settings) -> AzureCredentialChoice:
    """The credential the settings configure, by the order above; `StorageConfigError`
    (with the variables to set) when there is none or half of one."""
    if settings.azure_storage_connection_string:
        return AzureCredentialChoice("connection_string")
    url = azure_account_url(settings)
    if url and settings.azure_storage_account_key:
        return AzureCredentialChoice("account_key", url)
    if url and settings.azure_use_managed_identity:
        return AzureCredentialChoice("managed_identity", url)
    if url:
        raise StorageConfigError(
            "the Azure account is named (AZURE_STORAGE_ACCOUNT_URL or AZURE_STORAGE_ACCOUNT_NAME) "
            "but no way to authenticate is configured",
            backend="azure",
            hint="set AZURE_STORAGE_ACCOUNT_KEY, or AZURE_USE_MANAGED_IDENTITY=true",
        )
    if settings.azure_storage_account_key or settings.azure_use_managed_identity:
        raise StorageConfigError(
            "Azure credentials are set but not the account they belong to",
            backend="azure",
            hint="set AZURE_STORAGE_ACCOUNT_URL or AZURE_STORAGE_ACCOUNT_NAME",
        )
    raise StorageConfigError(
        "no Azure Storage account is configured", backend="azure", hint=AZURE_SETUP_HINT
    )
