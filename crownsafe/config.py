"""Settings read from the environment (and `.env`); the names are those of `.env.example`
and of the original backend.

Secrets are kept in `SecretStr` fields whose repr and str never show the value.
"""

from __future__ import annotations

import binascii
import ipaddress
import math
import os
from base64 import b64decode
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Literal, get_args

from crownsafe.errors import ApiConfigError, ConfigError, StorageConfigError, WorkerConfigError

__all__ = [
    "BACKENDS",
    "MAX_RETRIES_RANGE",
    "MIN_JWT_SECRET_LENGTH",
    "S3_REQUEST_CHECKSUM_MODES",
    "Backend",
    "S3ChecksumMode",
    "SecretStr",
    "Settings",
    "check_jwt_secret",
    "config_error",
    "is_base64_key",
    "load_settings",
    "read_dotenv",
    "storage_writes_enabled",
    "validate_settings",
]

Backend = Literal["azure", "s3"]
# The storage backends, in the order the harness runs and reports them.
BACKENDS: tuple[Backend, ...] = get_args(Backend)

S3ChecksumMode = Literal["when_supported", "when_required"]
S3_REQUEST_CHECKSUM_MODES: tuple[S3ChecksumMode, ...] = get_args(S3ChecksumMode)
"""S3_REQUEST_CHECKSUMS: `when_supported` (botocore's default: a CRC32 with every upload, in
an aws-chunked trailer for streamed bodies) or `when_required` (plain bodies, checksums
only where S3 requires them) for S3-compatible services that do not understand aws-chunked
and would store its framing as the object's bytes (docs/s3-compatible.md)."""

MAX_RETRIES_RANGE = (0, 10)
"""STORAGE_MAX_RETRIES must lie in this range (inclusive): more retries only stretch an
outage into a storm of requests; the deadline (STORAGE_DEADLINE_SECONDS) bounds the time."""


class SecretStr:
    """A string that never prints itself; call `.get()` to use it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "SecretStr('**********')" if self._value else "SecretStr('')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretStr) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


_STORAGE_PREFIXES = ("STORAGE_", "AZURE_", "S3_", "AWS_")


def config_error(name: str, message: str, *, hint: str) -> ConfigError:
    """The kind of `ConfigError` for variable `name`: storage, the worker's (CELERY_*) or
    the API's (everything else crownsafe reads)."""
    if name.startswith(_STORAGE_PREFIXES):
        return StorageConfigError(message, hint=hint)
    if name.startswith("CELERY_"):
        return WorkerConfigError(message, hint=hint)
    return ApiConfigError(message, hint=hint)


def _bool(value: str, name: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise config_error(
        name, f"{name}={value!r} is not a boolean", hint=f"set {name} to true or false"
    )


def _float(value: str, name: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise config_error(
            name, f"{name}={value!r} is not a finite number", hint=f"set {name} to a number"
        )
    return number


def _int(value: str, name: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise config_error(
            name, f"{name}={value!r} is not a whole number", hint=f"set {name} to a whole number"
        ) from None


@dataclass(frozen=True)
class Settings:
    """Everything crownsafe reads from its environment."""

    storage_backend: Backend = "azure"
    azure_blob_enabled: bool = False
    azure_storage_connection_string: SecretStr = field(default_factory=lambda: SecretStr(""))
    azure_storage_account_url: str = ""
    azure_storage_account_name: str = ""
    azure_storage_account_key: SecretStr = field(default_factory=lambda: SecretStr(""))
    azure_use_managed_identity: bool = False
    azure_storage_container: str = "crownsafe-images"
    azure_region: str = "westeurope"
    azure_connection_verify: str = ""
    s3_bucket: str = "crownsafe-images"
    aws_region: str = "us-east-1"
    s3_endpoint_url: str = ""
    aws_access_key_id: str = ""
    aws_secret_access_key: SecretStr = field(default_factory=lambda: SecretStr(""))
    s3_request_checksums: S3ChecksumMode = "when_supported"
    storage_max_retries: int = 3
    storage_retry_base_delay: float = 1.0
    storage_timeout_seconds: float = 30.0
    storage_connect_timeout_seconds: float = 30.0
    storage_max_connections: int = 10
    storage_deadline_seconds: float = 60.0
    storage_breaker_recovery_seconds: float = 60.0
    storage_resilient: bool = True
    storage_migration_phase: str = ""
    storage_migration_phase_ttl: float = 2.0
    storage_quota_bytes: int = 0
    storage_usage_interval_seconds: float = 300.0
    database_url: SecretStr = field(default_factory=lambda: SecretStr(""))
    redis_url: str = ""
    jwt_secret: SecretStr = field(default_factory=lambda: SecretStr(""))
    jwt_issuer: str = "crownsafe"
    cors_origins: str = ""
    trusted_hosts: str = "localhost,127.0.0.1"
    trusted_proxies: str = ""
    upload_max_bytes: int = 10 * 1024 * 1024
    upload_slots: int = 8
    share_ttl_seconds: int = 7 * 24 * 3600
    sas_ttl_seconds: int = 300
    celery_broker_url: str = ""
    celery_queue: str = "crownsafe-images"
    celery_visibility_timeout: int = 900
    celery_task_time_limit: int = 300
    image_max_pixels: int = 40_000_000
    job_gate_dir: str = ""
    log_format: str = ""
    worker_metrics_port: int = 0
    rate_limit_uploads: str = "120/minute"
    rate_limit_shares: str = "60/minute"
    rate_limit_unauthenticated: str = "120/minute"
    rate_limit_storage: str = "redis"
    api_requests_per_minute: str = "1000"
    upload_bytes_per_hour: str = "100000000"
    sas_cache: str = "off"
    sas_cache_min_lifetime_seconds: int = 60

    @property
    def broker_url(self) -> str:
        """CELERY_BROKER_URL, else REDIS_URL (the original backend's one Redis)."""
        return self.celery_broker_url or self.redis_url

    @property
    def cors_origin_list(self) -> list[str]:
        """CORS_ORIGINS split on commas (the configured front-ends)."""
        return _split_list(self.cors_origins)

    @property
    def trusted_host_list(self) -> list[str]:
        """TRUSTED_HOSTS split on commas."""
        return _split_list(self.trusted_hosts)

    @property
    def trusted_proxy_list(self) -> list[str]:
        """TRUSTED_PROXIES split on commas: the proxies whose X-Forwarded-For is believed."""
        return _split_list(self.trusted_proxies)

    @property
    def container(self) -> str:
        """The container (Azure) or bucket (S3) of the configured backend."""
        return self.azure_storage_container if self.storage_backend == "azure" else self.s3_bucket


def is_base64_key(value: str) -> bool:
    """True if `value` is non-empty standard base64 (the form of every Azure account key)."""
    try:
        return bool(b64decode(value.strip(), validate=True))
    except (binascii.Error, ValueError):
        return False


def validate_settings(settings: Settings) -> Settings:
    """Refuse values that would only fail later; return `settings` unchanged otherwise.

    STORAGE_MAX_RETRIES must lie in `MAX_RETRIES_RANGE`; AZURE_STORAGE_ACCOUNT_KEY, when
    set, must be base64 (a wrong key would otherwise surface as a 403 on the first call).
    Messages never contain the key.
    """
    low, high = MAX_RETRIES_RANGE
    if not low <= settings.storage_max_retries <= high:
        raise StorageConfigError(
            f"STORAGE_MAX_RETRIES={settings.storage_max_retries} is out of range: allowed "
            f"{low}..{high} (retries after the first attempt)",
            hint=f"set STORAGE_MAX_RETRIES to a whole number from {low} to {high} (default 3)",
        )
    if settings.s3_request_checksums not in S3_REQUEST_CHECKSUM_MODES:
        raise StorageConfigError(
            f"S3_REQUEST_CHECKSUMS={settings.s3_request_checksums!r} is not a checksum mode",
            backend="s3",
            hint="set S3_REQUEST_CHECKSUMS to when_supported (the default) or when_required "
            "(for S3-compatible services without aws-chunked support)",
        )
    key = settings.azure_storage_account_key.get()
    if key and not is_base64_key(key):
        raise StorageConfigError(
            f"AZURE_STORAGE_ACCOUNT_KEY is not base64 ({len(key)} characters; the value is "
            "not shown): an Azure account key is base64 text, usually 88 characters ending "
            "in '=='",
            backend="azure",
            hint="copy the key again from the portal (Storage account > Access keys) or "
            "`az storage account keys list`, without quotes or spaces",
        )
    _check_connection_pool(settings)
    if settings.storage_quota_bytes < 0:
        raise StorageConfigError(
            f"STORAGE_QUOTA_BYTES={settings.storage_quota_bytes} is negative",
            hint="set STORAGE_QUOTA_BYTES to the storage quota in bytes, or 0 for none",
        )
    if settings.storage_usage_interval_seconds < 0:
        raise StorageConfigError(
            f"STORAGE_USAGE_INTERVAL_SECONDS={settings.storage_usage_interval_seconds:g} is "
            "negative",
            hint="set STORAGE_USAGE_INTERVAL_SECONDS to the seconds between measurements of "
            "the storage used (default 300), or 0 to measure nothing",
        )
    _check_migration_phase(settings)
    return settings


DEFAULT_CONNECT_TIMEOUT = Settings.storage_connect_timeout_seconds
MAX_CONNECTIONS_RANGE = (1, 1024)
"""STORAGE_MAX_CONNECTIONS must lie in this range (inclusive): the connections each storage
client keeps open for reuse (Azure: requests' pool_maxsize; S3: botocore's
max_pool_connections). More callers than connections still work: the extra connections are
opened per request and closed after it (docs/storage-performance.md, "Connection pool")."""


def _check_connection_pool(settings: Settings) -> None:
    """STORAGE_MAX_CONNECTIONS and STORAGE_CONNECT_TIMEOUT_SECONDS, checked at load time."""
    low, high = MAX_CONNECTIONS_RANGE
    if not low <= settings.storage_max_connections <= high:
        raise StorageConfigError(
            f"STORAGE_MAX_CONNECTIONS={settings.storage_max_connections} is out of range: "
            f"allowed {low}..{high} (connections kept open per storage client)",
            hint=f"set STORAGE_MAX_CONNECTIONS to a whole number from {low} to {high} "
            f"(default {Settings.storage_max_connections})",
        )
    timeout = settings.storage_connect_timeout_seconds
    if not (math.isfinite(timeout) and timeout > 0):
        raise StorageConfigError(
            f"STORAGE_CONNECT_TIMEOUT_SECONDS={timeout!r} is out of range",
            hint="set STORAGE_CONNECT_TIMEOUT_SECONDS to the seconds a new connection may take "
            f"to open, a number greater than 0 (default {DEFAULT_CONNECT_TIMEOUT:g})",
        )


MIGRATION_PHASES = ("dual-write", "backfill", "azure-reads", "azure-only", "live")


def _check_migration_phase(settings: Settings) -> None:
    """STORAGE_MIGRATION_PHASE turns on the cut-over mode (crownsafe.cutover): only on top
    of the Azure backend, whose S3 settings name the source."""
    phase = settings.storage_migration_phase.strip().lower()
    if not phase:
        return
    if phase not in MIGRATION_PHASES:
        raise StorageConfigError(
            f"STORAGE_MIGRATION_PHASE={settings.storage_migration_phase!r} is not a phase",
            hint=f"set it to one of {', '.join(MIGRATION_PHASES)}, or leave it empty",
        )
    if settings.storage_backend != "azure":
        raise StorageConfigError(
            "STORAGE_MIGRATION_PHASE is set but STORAGE_BACKEND is not azure: the cut-over "
            "mode moves an S3 deployment onto Azure",
            hint="set STORAGE_BACKEND=azure with the Azure settings, keep the S3 settings "
            "(S3_BUCKET, S3_ENDPOINT_URL, AWS_*) of the source",
        )
    if not settings.storage_migration_phase_ttl > 0:
        raise StorageConfigError(
            f"STORAGE_MIGRATION_PHASE_TTL={settings.storage_migration_phase_ttl!r} is out of range",
            hint="set STORAGE_MIGRATION_PHASE_TTL to seconds greater than 0 (default 2)",
        )


def _split_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


LOG_FORMATS = ("", "json", "text")
"""LOG_FORMAT's values (any case); empty: text on a terminal, JSON otherwise."""

_POSITIVE = (
    "upload_max_bytes",
    "upload_slots",
    "share_ttl_seconds",
    "sas_ttl_seconds",
    "celery_visibility_timeout",
    "celery_task_time_limit",
    "image_max_pixels",
)
# HS256's key must be at least as long as its hash, 256 bits (RFC 7518 section 3.2); in
# bytes of the UTF-8 encoding, as PyJWT counts it, so our check and PyJWT's agree.
MIN_JWT_SECRET_LENGTH = 32


def check_jwt_secret(secret: str, variable: str = "JWT_SECRET") -> None:
    """Refuse a non-empty signing key shorter than HS256's minimum, naming `variable`.

    One check for the API's settings, the token minting and `crownsafe-harness token`, so a
    short key is our ApiConfigError everywhere and never PyJWT's InsecureKeyLengthWarning.
    The key itself never reaches the message. An empty key is "not set", checked by its users.
    """
    size = len(secret.encode())
    if secret and size < MIN_JWT_SECRET_LENGTH:
        raise ApiConfigError(
            f"{variable} is {size} byte{'' if size == 1 else 's'}; HS256 signing needs a key "
            f"of at least {MIN_JWT_SECRET_LENGTH} bytes (256 bits)",
            hint=f"set {variable} to a long random value, e.g. `openssl rand -hex 32`",
        )


def _check_api_settings(settings: Settings) -> None:
    """The API and worker settings, checked at load time so a bad value fails at start."""
    for name in _POSITIVE:
        if getattr(settings, name) <= 0:
            env = name.upper()
            raise config_error(
                env,
                f"{env}={getattr(settings, name)!r} is out of range",
                hint=f"set {env} to a whole number greater than 0",
            )
    if settings.celery_task_time_limit >= settings.celery_visibility_timeout:
        raise WorkerConfigError(
            "CELERY_TASK_TIME_LIMIT must be shorter than CELERY_VISIBILITY_TIMEOUT "
            "(else Redis hands a running job to a second worker)",
            hint="lower CELERY_TASK_TIME_LIMIT or raise CELERY_VISIBILITY_TIMEOUT",
        )
    check_jwt_secret(settings.jwt_secret.get())
    if not 0 <= settings.worker_metrics_port <= 65535:
        raise WorkerConfigError(
            f"WORKER_METRICS_PORT={settings.worker_metrics_port} is not a port",
            hint="set WORKER_METRICS_PORT to a TCP port (1-65535) for the worker's /metrics, "
            "or 0 for none",
        )
    if settings.log_format not in LOG_FORMATS:
        raise ApiConfigError(
            f"LOG_FORMAT={settings.log_format!r} is not a log format",
            hint="set LOG_FORMAT to json (one JSON object per line, for a log pipeline) or "
            "text (for a terminal), or leave it empty (text on a terminal, JSON otherwise)",
        )
    for origin in settings.cors_origin_list:
        if not origin.startswith(("http://", "https://")) or origin.count("/") != 2:
            raise ApiConfigError(
                f"CORS_ORIGINS entry {origin!r} is not an origin",
                hint="list origins as scheme://host[:port], comma-separated, no path",
            )
    if not settings.trusted_host_list:
        raise ApiConfigError(
            "TRUSTED_HOSTS is empty",
            hint="list the host names the API answers to, e.g. api.example",
        )
    for proxy in settings.trusted_proxy_list:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise ApiConfigError(
                f"TRUSTED_PROXIES entry {proxy!r} is not an IP address or network",
                hint="list your reverse proxies' addresses or CIDR networks, comma-separated "
                "(e.g. 10.0.0.0/8), or leave it empty to use each connection's own address",
            ) from None
    _check_rate_limits(settings)
    if settings.sas_cache not in SAS_CACHE_MODES:
        raise ApiConfigError(
            f"SAS_CACHE={settings.sas_cache!r} is not a cache mode",
            hint="set SAS_CACHE to off (the default: minting a URL is faster than a Redis "
            "round trip, see docs/security.md) or redis",
        )
    if settings.sas_cache_min_lifetime_seconds < 1:
        raise ApiConfigError(
            f"SAS_CACHE_MIN_LIFETIME_SECONDS={settings.sas_cache_min_lifetime_seconds} is below 1",
            hint="set it to the seconds a cached URL must still have left when served (60)",
        )


SAS_CACHE_MODES = ("off", "redis")
RATE_LIMIT_STORAGES = ("redis", "memory")


def _check_rate_limits(settings: Settings) -> None:
    """The rate limit settings parse (limits' notation, a whole count, or off) and name a
    known counter storage."""
    from crownsafe.rate_limits import rules_of

    try:
        rules_of(settings)
    except ValueError as exc:
        env = str(exc).split("=", 1)[0]
        hint = (
            f"set {env} to a whole number (1 or more), or off"
            if env in ("API_REQUESTS_PER_MINUTE", "UPLOAD_BYTES_PER_HOUR")
            else f"set {env} to COUNT/PERIOD (e.g. 120/minute; PERIOD second, minute, "
            "hour or day, COUNT 1 or more), or off"
        )
        raise config_error(env, str(exc), hint=hint) from None
    if settings.rate_limit_storage not in RATE_LIMIT_STORAGES:
        raise config_error(
            "RATE_LIMIT_STORAGE",
            f"RATE_LIMIT_STORAGE={settings.rate_limit_storage!r} is not a counter storage",
            hint="set RATE_LIMIT_STORAGE to redis (REDIS_URL, shared by every API process) "
            "or memory (one process's counters: tests only)",
        )


_ENV_NAMES: dict[str, str] = {f.name: f.name.upper() for f in fields(Settings)}


def storage_writes_enabled(settings: Settings) -> bool:
    """Whether the configured storage takes writes: AZURE_BLOB_ENABLED (the migration's
    feature flag) switches writes to Azure on; the S3 backend is not affected by it."""
    return settings.storage_backend != "azure" or settings.azure_blob_enabled


def read_dotenv(path: Path | None = None) -> dict[str, str]:
    """The variables of `.env` in the working directory (or `path`); {} when it is absent.

    Parsed by python-dotenv (comments, quotes, `export NAME=...`); never written to
    `os.environ`. Variables without a value (`NAME` alone) are left out.
    """
    from dotenv import dotenv_values

    file = path if path is not None else Path.cwd() / ".env"
    if not file.is_file():
        return {}
    return {name: value for name, value in dotenv_values(file).items() if value is not None}


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build `Settings` from `environ`; bad values raise clearly.

    Without `environ`: `os.environ` over the `.env` file of the working directory, if
    there is one (a variable set in the environment wins over the file; `os.environ` is
    never changed). An explicit `environ` is used alone.
    """
    env: Mapping[str, str] = {**read_dotenv(), **os.environ} if environ is None else environ
    values: dict[str, object] = {}
    for f in fields(Settings):
        name = _ENV_NAMES[f.name]
        if name not in env:
            continue
        raw = env[name]
        default = Settings.__dataclass_fields__[f.name]
        kind = default.type
        if kind == "bool":
            values[f.name] = _bool(raw, name)
        elif kind == "int":
            values[f.name] = _int(raw, name)
        elif kind == "float":
            values[f.name] = _float(raw, name)
        elif kind == "SecretStr":
            values[f.name] = SecretStr(raw)
        else:
            values[f.name] = raw.strip()
    if "log_format" in values:
        values["log_format"] = str(values["log_format"]).lower()
    backend = str(values.get("storage_backend", "azure")).lower()
    if backend not in BACKENDS:
        raise StorageConfigError(
            f"STORAGE_BACKEND={backend!r} is not a known backend",
            hint=f"set STORAGE_BACKEND to one of {', '.join(BACKENDS)}",
        )
    values["storage_backend"] = backend
    settings = validate_settings(Settings(**values))  # type: ignore[arg-type]
    _check_api_settings(settings)
    return settings
