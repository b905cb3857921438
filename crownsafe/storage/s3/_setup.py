"""What an S3 client is built from, resolved once for the sync and the async client.

Explicit arguments first, then `Settings`; a contradictory or malformed configuration is a
`StorageConfigError` naming the variable to fix. The botocore `Config` is the one retry
rule of crownsafe (one HTTP attempt per request: the resilience layer retries), SigV4,
path-style addressing for a custom endpoint, and the checksum mode.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from botocore.config import Config

from crownsafe.config import (
    S3_REQUEST_CHECKSUM_MODES,
    S3ChecksumMode,
    SecretStr,
    Settings,
    load_settings,
)
from crownsafe.errors import StorageConfigError
from crownsafe.storage.naming import validate_bucket_name
from crownsafe.storage.pool import pool_options

__all__ = ["S3Setup", "plain_endpoint", "resolve_s3_setup"]


def plain_endpoint(endpoint_url: str | None) -> str | None:
    """The endpoint without any user:password part (for repr and URLs)."""
    if not endpoint_url:
        return None
    parts = urlsplit(endpoint_url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port:
        host = f"{host}:{parts.port}"
    return parts._replace(netloc=host).geturl()


@dataclass(frozen=True)
class S3Setup:
    bucket: str
    region: str
    endpoint_url: str | None
    access_key_id: str | None
    secret: str | None = field(repr=False)
    request_checksums: S3ChecksumMode
    config: Config = field(repr=False)
    config_options: dict[str, Any] = field(repr=False)
    """The keyword arguments of `config` (for aiobotocore's `AioConfig`)."""
    max_connections: int


def resolve_s3_setup(
    *,
    bucket_name: str | None,
    endpoint_url: str | None,
    region: str | None,
    access_key_id: str | None,
    secret_access_key: str | SecretStr | None,
    settings: Settings | None,
    timeout: float,
    request_checksums: S3ChecksumMode | None,
    connect_timeout: float | None = None,
    max_connections: int | None = None,
    max_concurrency: int = 1,
) -> S3Setup:
    """`connect_timeout` / `max_connections`: the keywords, else the settings, by the one
    pool rule of every client (`crownsafe.storage.pool.pool_options`)."""
    explicit = (bucket_name, endpoint_url, region, access_key_id, secret_access_key)
    if settings is None and any(value is None for value in explicit):
        settings = load_settings()
    settings = settings or Settings()
    secret = secret_access_key if secret_access_key is not None else settings.aws_secret_access_key
    secret_value = secret.get() if isinstance(secret, SecretStr) else secret
    key_id = access_key_id if access_key_id is not None else settings.aws_access_key_id
    if bool(key_id) != bool(secret_value):
        raise StorageConfigError(
            "only one of the access key id and the secret access key is set",
            backend="s3",
            hint="set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither "
            "(to use the default AWS credential chain)",
        )
    endpoint = endpoint_url if endpoint_url is not None else settings.s3_endpoint_url
    if endpoint and urlsplit(endpoint).scheme not in ("http", "https"):
        raise StorageConfigError(
            f"S3 endpoint {plain_endpoint(endpoint)!r} is not an http(s) URL",
            backend="s3",
            hint="set S3_ENDPOINT_URL like http://127.0.0.1:9000, or leave it empty for AWS",
        )
    if timeout <= 0:
        raise ValueError(f"timeout must be positive, got {timeout}")
    connect_s, pool_size = pool_options(
        connect_timeout,
        max_connections,
        settings,
        timeout=timeout,
        max_concurrency=max(1, int(max_concurrency)),
    )
    checksums = request_checksums or settings.s3_request_checksums
    if checksums not in S3_REQUEST_CHECKSUM_MODES:
        raise StorageConfigError(
            f"S3 request checksum mode {checksums!r} is not one of "
            f"{', '.join(S3_REQUEST_CHECKSUM_MODES)}",
            backend="s3",
            hint="set S3_REQUEST_CHECKSUMS to when_supported or when_required",
        )
    region_name = region or settings.aws_region or "us-east-1"
    options: dict[str, Any] = {
        "signature_version": "s3v4",
        "region_name": region_name,
        "retries": {"total_max_attempts": 1, "mode": "standard"},
        "connect_timeout": connect_s,
        "read_timeout": timeout,
        "max_pool_connections": pool_size,
        "s3": {"addressing_style": "path"} if endpoint else None,
    }
    if checksums == "when_required":
        # botocore's default ("when_supported") stays implicit: set explicitly it also
        # makes every part carry an explicit ChecksumAlgorithm (slower through a proxy)
        options["request_checksum_calculation"] = "when_required"
        options["response_checksum_validation"] = "when_required"
    return S3Setup(
        bucket=validate_bucket_name(bucket_name or settings.s3_bucket),
        region=region_name,
        endpoint_url=endpoint or None,
        access_key_id=key_id or None,
        secret=secret_value or None,
        request_checksums=checksums,
        config=Config(**options),
        config_options=options,
        max_connections=pool_size,
    )
