"""Where the configured storage lives, derived from the settings without any I/O.

Used by `config.https-only`, by the anonymous-access checks (which need the container's
plain URL) and by the report's `target` line, which names only the kind of endpoint.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from crownsafe.config import Settings
from crownsafe.errors import StorageConfigError
from crownsafe.storage.base import StorageClient
from harness.predeploy.http import is_loopback_url

__all__ = ["container_url", "describe_target", "is_emulator", "storage_endpoint"]


def storage_endpoint(settings: Settings) -> str:
    """The blob / S3 endpoint URL the client will talk to ('' when it cannot be told)."""
    if settings.storage_backend == "s3":
        return settings.s3_endpoint_url or f"https://s3.{settings.aws_region}.amazonaws.com"
    if settings.azure_storage_connection_string:
        from crownsafe.storage.azure import parse_connection_string

        try:
            parts = parse_connection_string(settings.azure_storage_connection_string.get())
        except StorageConfigError:
            return ""
        if parts.get("BLOBENDPOINT"):
            return parts["BLOBENDPOINT"]
        protocol = parts.get("DEFAULTENDPOINTSPROTOCOL", "https")
        suffix = parts.get("ENDPOINTSUFFIX", "core.windows.net")
        account = parts.get("ACCOUNTNAME", "")
        return f"{protocol}://{account}.blob.{suffix}" if account else ""
    if settings.azure_storage_account_url:
        return settings.azure_storage_account_url
    name = settings.azure_storage_account_name
    return f"https://{name}.blob.core.windows.net" if name else ""


def is_emulator(settings: Settings) -> bool:
    """An emulator is a loopback endpoint (Azurite, moto): never a real account."""
    endpoint = storage_endpoint(settings)
    return bool(endpoint) and is_loopback_url(endpoint)


def describe_target(settings: Settings | None) -> str:
    """e.g. "azure container at a loopback emulator endpoint (http)": no host, no secret."""
    if settings is None:
        return "unknown (settings did not load)"
    endpoint = storage_endpoint(settings)
    kind = "container" if settings.storage_backend == "azure" else "bucket"
    if not endpoint:
        return f"{settings.storage_backend} {kind} (endpoint not configured)"
    where = "a loopback emulator" if is_loopback_url(endpoint) else "a remote"
    return f"{settings.storage_backend} {kind} at {where} endpoint ({urlsplit(endpoint).scheme})"


def container_url(client: StorageClient) -> str:
    """The container's / bucket's plain URL (no query, no credentials)."""
    blob_url = client.get_blob_url("x")
    base = blob_url[: -len("/x")]
    return base if urlsplit(base).path else base + "/"
