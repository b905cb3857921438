"""How the Azure client authenticates and signs SAS URLs: pure logic, no azure.storage.blob.

- `resolve_azure_auth`: explicit arguments first, then `Settings` by the credential rule
  (`crownsafe.storage.credentials`, shared with the factory's check); a missing or
  contradictory configuration is a `StorageConfigError` naming the variables to set.
- `parse_sas_permission`, `sas_protocol`, `sas_window`: least-privilege SAS parameters.
- `UserDelegationKeyCache`: the managed-identity SAS signing key, fetched once, shared
  by threads, renewed before it expires (injectable clock, so tests are exact).

Secrets (account keys, connection strings) are held as `SecretStr` and never printed.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, cast
from urllib.parse import urlsplit

from crownsafe.config import SecretStr, Settings, load_settings
from crownsafe.errors import StorageConfigError
from crownsafe.storage.credentials import azure_account_url, choose_azure_credential
from crownsafe.storage.sas import bad_sas_request, validate_sas_expiry

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

__all__ = [
    "DELEGATION_KEY_MAX_LIFETIME",
    "SAS_PERMISSION_LETTERS",
    "SAS_START_SKEW",
    "AsyncUserDelegationKeyCache",
    "AzureAuth",
    "UserDelegationKeyCache",
    "account_name_from_url",
    "build_sdk_client",
    "is_local_emulator",
    "parse_connection_string",
    "parse_sas_permission",
    "resolve_azure_auth",
    "sas_protocol",
    "sas_window",
    "utc_now",
]

SAS_START_SKEW = timedelta(minutes=15)
"""SAS start time lies this far in the past, so clock skew never makes a fresh URL invalid."""

DELEGATION_KEY_MAX_LIFETIME = timedelta(days=7)
"""The service's limit for a user delegation key (and so for a user delegation SAS)."""

SAS_PERMISSION_LETTERS = "racwdxytmei"
"""Blob SAS permission letters in the order the service requires."""

_EMULATOR_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
_EMULATOR_ACCOUNT = "devstoreaccount1"


def utc_now() -> datetime:
    return datetime.now(UTC)


AuthMode = Literal["connection_string", "account_key", "token"]


@dataclass(frozen=True)
class AzureAuth:
    """The resolved way to reach the account. Secrets never appear in its repr."""

    mode: AuthMode
    account_url: str = ""
    account_name: str = ""
    connection_string: SecretStr = field(default_factory=lambda: SecretStr(""), repr=False)
    account_key: SecretStr = field(default_factory=lambda: SecretStr(""), repr=False)
    credential: TokenCredential | None = field(default=None, repr=False)
    owns_credential: bool = False

    @property
    def can_sign_with_key(self) -> bool:
        return bool(self.account_key)


def parse_connection_string(connection_string: str) -> dict[str, str]:
    """`Key=Value;...` pairs with upper-cased keys; values may contain '='."""
    pairs: dict[str, str] = {}
    for part in connection_string.split(";"):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise StorageConfigError(
                "the Azure connection string is malformed (expected Key=Value pairs separated "
                "by ';')",
                backend="azure",
                hint="copy the connection string again from the portal or the emulator docs",
            )
        pairs[key.strip().upper()] = value.strip()
    return pairs


def account_name_from_url(account_url: str) -> str:
    """`https://acct.blob.core.windows.net` -> acct; emulator `http://127.0.0.1:p/acct` -> acct."""
    parts = urlsplit(account_url)
    host = (parts.hostname or "").lower()
    first_path_segment = parts.path.strip("/").split("/")[0]
    if (host in _EMULATOR_HOSTS or _is_ip(host)) and first_path_segment:
        return first_path_segment
    return host.split(".")[0] if host else ""


def _is_ip(host: str) -> bool:
    return host.replace(".", "").isdigit() or ":" in host


def _from_connection_string(connection_string: str) -> AzureAuth:
    pairs = parse_connection_string(connection_string)
    if pairs.get("USEDEVELOPMENTSTORAGE", "").lower() == "true":
        raise StorageConfigError(
            "UseDevelopmentStorage=true points at a fixed emulator port",
            backend="azure",
            hint="give the emulator's full connection string with BlobEndpoint=...",
        )
    account_name = pairs.get("ACCOUNTNAME", "")
    account_url = pairs.get("BLOBENDPOINT", "")
    if not account_url and account_name:
        protocol = pairs.get("DEFAULTENDPOINTSPROTOCOL", "https")
        suffix = pairs.get("ENDPOINTSUFFIX", "core.windows.net")
        account_url = f"{protocol}://{account_name}.blob.{suffix}"
    if not account_url:
        raise StorageConfigError(
            "the Azure connection string names neither AccountName nor BlobEndpoint",
            backend="azure",
            hint="copy the connection string again from the portal or the emulator docs",
        )
    if not account_name:
        account_name = account_name_from_url(account_url)
    return AzureAuth(
        mode="connection_string",
        account_url=account_url.rstrip("/"),
        account_name=account_name,
        connection_string=SecretStr(connection_string),
        account_key=SecretStr(pairs.get("ACCOUNTKEY", "")),
    )


def _default_credential() -> TokenCredential:
    from azure.identity import DefaultAzureCredential

    credential: TokenCredential = DefaultAzureCredential()
    return credential


def resolve_azure_auth(
    *,
    connection_string: str | None = None,
    account_url: str | None = None,
    account_key: str | None = None,
    credential: TokenCredential | None = None,
    settings: Settings | None = None,
    credential_factory: Callable[[], TokenCredential] = _default_credential,
) -> AzureAuth:
    """Explicit arguments first, then `settings` (default `load_settings()`)."""
    if connection_string and (account_url or account_key or credential is not None):
        raise StorageConfigError(
            "give either connection_string or account_url with account_key/credential, not both",
            backend="azure",
            hint="pass one way of authenticating",
        )
    if connection_string:
        return _from_connection_string(connection_string)
    if account_url or account_key or credential is not None:
        cfg = settings if settings is not None else load_settings()
        url = account_url or azure_account_url(cfg)
        if not url:
            raise StorageConfigError(
                "an account key or credential was given without the account URL",
                backend="azure",
                hint="pass account_url=... or set AZURE_STORAGE_ACCOUNT_URL",
            )
        if credential is not None:
            return _token_auth(url, credential, owns=False, cfg=cfg)
        key = account_key or cfg.azure_storage_account_key.get()
        if key:
            return _key_auth(url, key, cfg)
        if cfg.azure_use_managed_identity:
            return _token_auth(url, credential_factory(), owns=True, cfg=cfg)
        raise StorageConfigError(
            "an account URL was given without a way to authenticate",
            backend="azure",
            hint="pass account_key= or credential=, or set AZURE_STORAGE_ACCOUNT_KEY or "
            "AZURE_USE_MANAGED_IDENTITY=true",
        )
    cfg = settings if settings is not None else load_settings()
    choice = choose_azure_credential(cfg)
    if choice.source == "connection_string":
        return _from_connection_string(cfg.azure_storage_connection_string.get())
    if choice.source == "account_key":
        return _key_auth(choice.account_url, cfg.azure_storage_account_key.get(), cfg)
    return _token_auth(choice.account_url, credential_factory(), owns=True, cfg=cfg)


def _key_auth(url: str, key: str, cfg: Settings) -> AzureAuth:
    return AzureAuth(
        mode="account_key",
        account_url=url.rstrip("/"),
        account_name=cfg.azure_storage_account_name or account_name_from_url(url),
        account_key=SecretStr(key),
    )


def _token_auth(url: str, credential: TokenCredential, *, owns: bool, cfg: Settings) -> AzureAuth:
    return AzureAuth(
        mode="token",
        account_url=url.rstrip("/"),
        account_name=cfg.azure_storage_account_name or account_name_from_url(url),
        credential=credential,
        owns_credential=owns,
    )


def parse_sas_permission(permission: str) -> str:
    """Validate a permission string ('r', 'rw', 'cw', ...) and return it in service order.

    Raises `InvalidSasRequestError` (a `ValueError`) for an empty string or unknown letters.
    """
    hint = "use letters of 'racwdxytmei' in any order, e.g. 'r' to read or 'cw' to write"
    if not isinstance(permission, str) or not permission:
        raise bad_sas_request(
            "SAS permission must be a non-empty string such as 'r', 'w' or 'rw'",
            hint,
            backend="azure",
        )
    unknown = sorted(set(permission) - set(SAS_PERMISSION_LETTERS))
    if unknown:
        raise bad_sas_request(
            f"unknown SAS permission letter(s) {''.join(unknown)!r} in {permission!r}; "
            f"allowed: {SAS_PERMISSION_LETTERS!r} (r=read, a=add, c=create, w=write, d=delete, "
            "x=delete version, y=permanent delete, t=tags, m=move, e=execute, "
            "i=immutability policy)",
            hint,
            backend="azure",
        )
    return "".join(letter for letter in SAS_PERMISSION_LETTERS if letter in permission)


def is_local_emulator(account_url: str) -> bool:
    """True for Azurite-style endpoints on loopback or the well-known emulator account."""
    parts = urlsplit(account_url)
    host = (parts.hostname or "").lower()
    return host in _EMULATOR_HOSTS or _EMULATOR_ACCOUNT in (parts.path + host).lower()


def sas_protocol(account_url: str) -> str:
    """HTTPS only, except on a local emulator (which usually speaks plain HTTP)."""
    return "https,http" if is_local_emulator(account_url) else "https"


def sas_window(now: datetime, expiry_hours: float) -> tuple[datetime, datetime]:
    """(start, expiry): start 15 minutes in the past, expiry `expiry_hours` from now.

    `expiry_hours` must lie in (0, 168] (`crownsafe.storage.sas`), else
    `InvalidSasRequestError`.
    """
    hours = validate_sas_expiry(expiry_hours, backend="azure")
    return now - SAS_START_SKEW, now + timedelta(hours=hours)


SdkClientT = TypeVar("SdkClientT")


def build_sdk_client(
    auth: AzureAuth, kind: type[SdkClientT], options: dict[str, Any], **names: Any
) -> SdkClientT:
    """An SDK client (`BlobServiceClient` or `ContainerClient`, sync or aio) of `kind` for
    `auth`: from the connection string, the account key or the token credential. A value
    the SDK refuses is a `StorageConfigError` naming the settings to check."""
    factory: Any = kind
    try:
        if auth.mode == "connection_string":
            return cast(
                SdkClientT,
                factory.from_connection_string(auth.connection_string.get(), **names, **options),
            )
        credential: Any = auth.credential
        if auth.mode == "account_key":
            credential = {"account_name": auth.account_name, "account_key": auth.account_key.get()}
        return cast(
            SdkClientT, factory(auth.account_url, credential=credential, **names, **options)
        )
    except (ValueError, TypeError) as exc:
        raise StorageConfigError(
            f"the Azure client could not be built from the configured {auth.mode} "
            f"({type(exc).__name__})",
            backend="azure",
            operation="connect",
            hint="check AZURE_STORAGE_CONNECTION_STRING / AZURE_STORAGE_ACCOUNT_URL",
        ) from None


KeyT = TypeVar("KeyT")


@dataclass(frozen=True)
class _CachedKey(Generic[KeyT]):
    key: KeyT
    start: datetime
    expiry: datetime


class _KeyWindow(Generic[KeyT]):
    """The renewal rule of a user delegation key, shared by the sync and async caches."""

    def __init__(
        self,
        *,
        clock: Callable[[], datetime],
        lifetime: timedelta,
        margin: timedelta,
    ) -> None:
        if lifetime > DELEGATION_KEY_MAX_LIFETIME:
            raise ValueError("a user delegation key lives at most 7 days")
        self._clock = clock
        self._lifetime = lifetime
        self._margin = margin
        self._cached: _CachedKey[KeyT] | None = None
        self.fetch_count = 0

    @property
    def expiry(self) -> datetime | None:
        cached = self._cached
        return cached.expiry if cached else None

    def _lookup(self, sas_expiry: datetime) -> KeyT | _Window:
        """The cached key if it covers `sas_expiry`, else the (start, expiry) to fetch."""
        now = self._clock()
        if sas_expiry > now + DELEGATION_KEY_MAX_LIFETIME:
            raise ValueError(
                "a user delegation SAS can be valid for at most 7 days; lower expiry_hours"
            )
        cached = self._cached
        if cached is not None and cached.expiry >= max(sas_expiry, now + self._margin):
            return cached.key
        start = now - SAS_START_SKEW
        expiry = min(max(sas_expiry, now + self._lifetime), now + DELEGATION_KEY_MAX_LIFETIME)
        return _Window(start, expiry)

    def _store(self, key: KeyT, window: _Window) -> KeyT:
        self.fetch_count += 1
        self._cached = _CachedKey(key, window.start, window.expiry)
        return key

    def clear(self) -> None:
        self._cached = None


class _Window(tuple[datetime, datetime]):
    """(start, expiry) of a key to fetch (a distinct type: a key may itself be a tuple)."""

    def __new__(cls, start: datetime, expiry: datetime) -> _Window:
        return super().__new__(cls, (start, expiry))

    @property
    def start(self) -> datetime:
        return self[0]

    @property
    def expiry(self) -> datetime:
        return self[1]


class UserDelegationKeyCache(_KeyWindow[KeyT]):
    """One user delegation key per process, renewed when it would not cover a new SAS.

    `get(sas_expiry)` returns a key valid until at least `sas_expiry` and for at least
    `margin` more. A new key is valid from `now - 15 min` until the later of `sas_expiry`
    and `now + lifetime`, capped at the service's 7 days. `fetch(start, expiry)` asks the
    service; it runs under a lock, so concurrent callers fetch once.
    """

    def __init__(
        self,
        fetch: Callable[[datetime, datetime], KeyT],
        *,
        clock: Callable[[], datetime] = utc_now,
        lifetime: timedelta = timedelta(hours=24),
        margin: timedelta = timedelta(minutes=5),
    ) -> None:
        super().__init__(clock=clock, lifetime=lifetime, margin=margin)
        self._fetch = fetch
        self._lock = threading.Lock()

    def get(self, sas_expiry: datetime) -> KeyT:
        with self._lock:
            found = self._lookup(sas_expiry)
            if not isinstance(found, _Window):
                return found
            return self._store(self._fetch(found.start, found.expiry), found)

    def clear(self) -> None:
        with self._lock:
            super().clear()


class AsyncUserDelegationKeyCache(_KeyWindow[KeyT]):
    """`UserDelegationKeyCache` for the async client: `await get(sas_expiry)`; concurrent
    callers of one event loop fetch once (an asyncio lock, made on first use)."""

    def __init__(
        self,
        fetch: Callable[[datetime, datetime], Awaitable[KeyT]],
        *,
        clock: Callable[[], datetime] = utc_now,
        lifetime: timedelta = timedelta(hours=24),
        margin: timedelta = timedelta(minutes=5),
    ) -> None:
        super().__init__(clock=clock, lifetime=lifetime, margin=margin)
        self._fetch = fetch
        self._lock: asyncio.Lock | None = None

    async def get(self, sas_expiry: datetime) -> KeyT:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            found = self._lookup(sas_expiry)
            if not isinstance(found, _Window):
                return found
            return self._store(await self._fetch(found.start, found.expiry), found)
