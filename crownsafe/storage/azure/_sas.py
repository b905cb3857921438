"""Blob SAS tokens, signed the same way by the sync and the async Azure client.

A SAS is a local HMAC (no request): an account key signs it, or a user delegation key
(managed identity) that the client fetched and cached. What goes into it is decided once
here: least privilege in service order, a start 15 minutes in the past, HTTPS only unless
the endpoint is a local emulator (`crownsafe.storage.azure._auth`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from azure.storage.blob import BlobSasPermissions, UserDelegationKey, generate_blob_sas

from crownsafe.errors import StorageConfigError
from crownsafe.storage.azure._auth import parse_sas_permission, sas_protocol, sas_window

__all__ = ["SasPlan", "no_signing_key", "plan_blob_sas", "sign_blob_sas"]


@dataclass(frozen=True)
class SasPlan:
    """What a SAS for one blob grants, before it is signed."""

    fields: dict[str, Any]
    expiry: datetime


def plan_blob_sas(
    *,
    account_name: str,
    container: str,
    blob_name: str,
    permission: str,
    now: datetime,
    expiry_hours: float,
    account_url: str,
) -> SasPlan:
    """Validate the permission letters and the lifetime (typed errors) and plan the SAS."""
    letters = parse_sas_permission(permission)
    start, expiry = sas_window(now, expiry_hours)
    fields: dict[str, Any] = {
        "account_name": account_name,
        "container_name": container,
        "blob_name": blob_name,
        "permission": BlobSasPermissions.from_string(letters),
        "start": start,
        "expiry": expiry,
        "protocol": sas_protocol(account_url),
    }
    return SasPlan(fields, expiry)


def sign_blob_sas(
    plan: SasPlan,
    *,
    account_key: str | None = None,
    delegation_key: UserDelegationKey | None = None,
) -> str:
    """The SAS query string (without '?'), signed with the account key or delegation key."""
    if account_key:
        return str(generate_blob_sas(account_key=account_key, **plan.fields))
    return str(generate_blob_sas(user_delegation_key=delegation_key, **plan.fields))


def no_signing_key(blob_name: str) -> StorageConfigError:
    return StorageConfigError(
        "cannot sign a SAS URL: the connection string carries a SAS token but no account key",
        backend="azure",
        operation="generate_sas_url",
        blob_name=blob_name,
        hint="use a connection string with AccountKey=, an account key, or a managed "
        "identity (AZURE_USE_MANAGED_IDENTITY=true) for user delegation SAS",
    )
