"""Build the configured storage client from `Settings` (`STORAGE_BACKEND=azure|s3`).

`STORAGE_BACKEND` picks the backend. `AZURE_BLOB_ENABLED` (the migration's feature flag) decides
whether the Azure backend takes writes: when it is false the Azure client is returned
inside `WritesDisabledStorageClient`, whose writes raise `StorageWritesDisabledError`
(reads keep working); S3 is not affected. The configuration is checked before any SDK
is imported, so a missing or wrong setting is a `StorageConfigError` that names the
environment variable to set.
The SDK-backed clients and the resilience wrapper are imported only when a client is
built; the Azure credential rule is `crownsafe.storage.credentials` (SDK-free), which the
Azure client follows too.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from crownsafe.config import is_base64_key, storage_writes_enabled, validate_settings
from crownsafe.errors import InvalidBlobNameError, StorageConfigError
from crownsafe.storage.base import StorageClient
from crownsafe.storage.credentials import choose_azure_credential
from crownsafe.storage.naming import validate_bucket_name, validate_container_name

if TYPE_CHECKING:
    from crownsafe.config import Settings
    from crownsafe.storage.async_base import AsyncStorageClient

__all__ = [
    "check_storage_settings",
    "create_async_storage_client",
    "create_storage_client",
]


def create_storage_client(
    settings: Settings | None = None, *, resilient: bool | None = None, **client_options: Any
) -> StorageClient:
    """The client for `settings.storage_backend` (default settings: `load_settings()`).

    `client_options` go to the backend client's constructor (e.g. `block_size` and
    `max_concurrency` for Azure, `part_size` for S3: what bounds a streamed upload's memory;
    `max_connections` and `connect_timeout`, else STORAGE_MAX_CONNECTIONS and
    STORAGE_CONNECT_TIMEOUT_SECONDS: the connection pool, `crownsafe.storage.pool`).
    With `resilient` (default `settings.storage_resilient`) the client is wrapped in
    `crownsafe.storage.resilient.ResilientStorageClient`.
    """
    if settings is None:
        from crownsafe.config import load_settings

        settings = load_settings()
    check_storage_settings(settings)
    # the pool: STORAGE_MAX_CONNECTIONS / STORAGE_CONNECT_TIMEOUT_SECONDS unless given
    client_options.setdefault("max_connections", settings.storage_max_connections)
    client_options.setdefault("connect_timeout", settings.storage_connect_timeout_seconds)
    client: StorageClient
    if settings.storage_backend == "azure":
        from crownsafe.storage.azure import AzureBlobStorageClient

        client = AzureBlobStorageClient(
            settings.azure_storage_container,
            settings=settings,
            timeout=settings.storage_timeout_seconds,
            **client_options,
        )
    else:
        from crownsafe.storage.s3 import S3StorageClient

        client = S3StorageClient(
            settings.s3_bucket,
            settings=settings,
            timeout=settings.storage_timeout_seconds,
            **client_options,
        )
    wrap = settings.storage_resilient if resilient is None else resilient
    if wrap:
        client = _resilient(client, settings)
    if not storage_writes_enabled(settings):
        from crownsafe.storage.writes_disabled import WritesDisabledStorageClient

        return WritesDisabledStorageClient(client)
    return client


def _resilient(client: StorageClient, settings: Settings) -> StorageClient:
    """`client` behind the breaker and retries; when that cannot be built, `client` is
    closed before the error propagates (nobody else holds it)."""
    try:
        from crownsafe.storage.resilient import ResilientStorageClient

        return ResilientStorageClient.from_settings(client, settings)
    except BaseException:
        client.close()
        raise


def create_async_storage_client(
    settings: Settings | None = None, *, resilient: bool | None = None, **client_options: Any
) -> AsyncStorageClient:
    """`create_storage_client` for asyncio code: the async client of
    `settings.storage_backend`, checked by the same rules before any SDK is imported.

    `client_options` go to `AsyncAzureBlobStorageClient` / `AsyncS3StorageClient` (e.g.
    `block_size`, `part_size`; `max_connections` and `connect_timeout`, else
    STORAGE_MAX_CONNECTIONS and STORAGE_CONNECT_TIMEOUT_SECONDS, as the sync clients).
    With `resilient` (default `settings.storage_resilient`) the client is wrapped in
    `AsyncResilientStorageClient` on the backend's process-wide breaker (the sync clients'
    one); with AZURE_BLOB_ENABLED=false the Azure client refuses writes. The client
    opens its connections in the event loop that first uses it; `await client.close()`.
    """
    if settings is None:
        from crownsafe.config import load_settings

        settings = load_settings()
    check_storage_settings(settings)
    client_options.setdefault("max_connections", settings.storage_max_connections)
    client_options.setdefault("connect_timeout", settings.storage_connect_timeout_seconds)
    client: AsyncStorageClient
    if settings.storage_backend == "azure":
        from crownsafe.storage.azure import AsyncAzureBlobStorageClient

        client = AsyncAzureBlobStorageClient(
            settings.azure_storage_container,
            settings=settings,
            timeout=settings.storage_timeout_seconds,
            **client_options,
        )
    else:
        from crownsafe.storage.s3 import AsyncS3StorageClient

        client = AsyncS3StorageClient(
            settings.s3_bucket,
            settings=settings,
            timeout=settings.storage_timeout_seconds,
            **client_options,
        )
    if settings.storage_resilient if resilient is None else resilient:
        from crownsafe.storage.resilient_async import AsyncResilientStorageClient

        client = AsyncResilientStorageClient.from_settings(client, settings)
    if not storage_writes_enabled(settings):
        from crownsafe.storage.writes_disabled import AsyncWritesDisabledStorageClient

        return AsyncWritesDisabledStorageClient(client)
    return client


def check_storage_settings(settings: Settings) -> None:
    """Raise `StorageConfigError` (naming the variable) if the backend cannot be built."""
    validate_settings(settings)
    _check_number("STORAGE_TIMEOUT_SECONDS", settings.storage_timeout_seconds, positive=True)
    _check_number("STORAGE_DEADLINE_SECONDS", settings.storage_deadline_seconds, positive=True)
    _check_number(
        "STORAGE_BREAKER_RECOVERY_SECONDS",
        settings.storage_breaker_recovery_seconds,
        positive=True,
    )
    _check_number("STORAGE_MAX_RETRIES", settings.storage_max_retries, positive=False)
    _check_number("STORAGE_RETRY_BASE_DELAY", settings.storage_retry_base_delay, positive=False)
    if settings.storage_backend == "azure":
        _check_azure(settings)
    elif settings.storage_backend == "s3":
        _check_s3(settings)
    else:
        raise StorageConfigError(
            f"STORAGE_BACKEND={settings.storage_backend!r} is not a known backend",
            hint="set STORAGE_BACKEND to azure or s3",
        )


def _check_number(name: str, value: float, *, positive: bool) -> None:
    if math.isfinite(value) and (value > 0 or (not positive and value == 0)):
        return
    bound = "a finite number greater than 0" if positive else "a finite number, 0 or more"
    raise StorageConfigError(f"{name}={value!r} is out of range", hint=f"set {name} to {bound}")


def _check_azure(settings: Settings) -> None:
    _check_name("AZURE_STORAGE_CONTAINER", settings.azure_storage_container, "azure")
    if settings.azure_storage_account_url:
        _check_url("AZURE_STORAGE_ACCOUNT_URL", settings.azure_storage_account_url, "azure")
    if choose_azure_credential(settings).source == "connection_string":
        _check_connection_string_key(settings.azure_storage_connection_string.get())


def _check_connection_string_key(connection_string: str) -> None:
    pairs = (part.strip().partition("=") for part in connection_string.split(";"))
    key = next((value.strip() for name, _, value in pairs if name.upper() == "ACCOUNTKEY"), "")
    if key and not is_base64_key(key):
        raise StorageConfigError(
            "the AccountKey in AZURE_STORAGE_CONNECTION_STRING is not base64 (the value is "
            "not shown): an Azure account key is base64 text, usually 88 characters ending "
            "in '=='",
            backend="azure",
            hint="copy the connection string again from the portal (Storage account > Access keys)",
        )


def _check_s3(settings: Settings) -> None:
    _check_name("S3_BUCKET", settings.s3_bucket, "s3")
    if not settings.aws_region:
        raise StorageConfigError(
            "AWS_REGION is empty", backend="s3", hint="set AWS_REGION, e.g. us-east-1"
        )
    if settings.s3_endpoint_url:
        _check_url("S3_ENDPOINT_URL", settings.s3_endpoint_url, "s3")
    has_id = bool(settings.aws_access_key_id)
    has_secret = bool(settings.aws_secret_access_key)
    if has_id != has_secret:
        missing = "AWS_SECRET_ACCESS_KEY" if has_id else "AWS_ACCESS_KEY_ID"
        raise StorageConfigError(
            f"{missing} is not set but its partner is",
            backend="s3",
            hint=f"set {missing}, or unset both to use the default AWS credential chain",
        )


def _check_name(variable: str, value: str, backend: str) -> None:
    if not value:
        raise StorageConfigError(
            f"{variable} is empty", backend=backend, hint=f"set {variable}, e.g. crownsafe-images"
        )
    validate = validate_container_name if backend == "azure" else validate_bucket_name
    try:
        validate(value)
    except InvalidBlobNameError as exc:
        raise StorageConfigError(
            f"{variable}: {exc.reason}", backend=backend, hint=f"fix {variable}: {exc.hint}"
        ) from None


def _check_url(variable: str, value: str, backend: str) -> None:
    try:
        parts = urlsplit(value)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        ok = False
    if not ok or parts.query or "@" in parts.netloc:
        raise StorageConfigError(
            f"{variable} is not a plain http(s) URL",
            backend=backend,
            hint=f"set {variable} to e.g. https://host[:port][/path] without credentials or "
            "a query",
        )
