"""Configuration checks (Pre-Deployment Checklist step 1): the settings load, the required variables
are present and well formed (only their shape is shown), the backend flags agree, and the
storage endpoint is HTTPS unless it is a loopback emulator. No I/O."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from urllib.parse import urlsplit

from crownsafe.config import Settings, load_settings
from crownsafe.errors import ConfigError, StorageConfigError
from crownsafe.storage.factory import check_storage_settings
from harness.predeploy.context import Context
from harness.predeploy.endpoints import storage_endpoint
from harness.predeploy.http import is_loopback_url
from harness.predeploy.model import Check, Outcome, failed, passed
from harness.predeploy.shapes import connection_string_shape, key_shape, text_shape, url_shape

__all__ = ["CHECKS", "load_settings_quietly"]


def load_settings_quietly(environ: Mapping[str, str]) -> Settings | None:
    try:
        return load_settings(environ)
    except ConfigError:
        return None


def _settings_load(ctx: Context) -> Outcome:
    try:
        ctx.settings = load_settings(ctx.environ)
    except ConfigError as exc:
        return failed(f"the settings do not load: {exc.reason}", exc.hint)
    return passed(f"settings loaded (STORAGE_BACKEND: {ctx.settings.storage_backend})")


def _wanted(settings: Settings, *, database: bool = True) -> list[tuple[str, bool]]:
    """(variable, required) pairs for the configured backend; DATABASE_URL is required
    unless the database checks are skipped (`--skip 'database.*'`)."""
    if settings.storage_backend == "s3":
        names = [("S3_BUCKET", False), ("AWS_REGION", False), ("S3_ENDPOINT_URL", False)]
        names += [("AWS_ACCESS_KEY_ID", False), ("AWS_SECRET_ACCESS_KEY", False)]
    else:
        names = [("AZURE_BLOB_ENABLED", True), ("AZURE_STORAGE_CONTAINER", False)]
        names += [("AZURE_REGION", False)]
        if settings.azure_storage_connection_string or not (
            settings.azure_storage_account_url or settings.azure_storage_account_name
        ):
            names.append(("AZURE_STORAGE_CONNECTION_STRING", True))
        else:
            names += [("AZURE_STORAGE_ACCOUNT_URL", False), ("AZURE_STORAGE_ACCOUNT_NAME", False)]
            names += [("AZURE_STORAGE_ACCOUNT_KEY", False)]
    return [("STORAGE_BACKEND", False), *names, ("DATABASE_URL", database), ("REDIS_URL", False)]


def _shape(name: str, value: str) -> tuple[str, str]:
    if name == "AZURE_STORAGE_CONNECTION_STRING":
        return connection_string_shape(value)
    if name == "AZURE_STORAGE_ACCOUNT_KEY":
        return key_shape(value)
    if name in ("AZURE_STORAGE_ACCOUNT_URL", "S3_ENDPOINT_URL"):
        return url_shape(value)
    if name == "DATABASE_URL":
        return url_shape(value, schemes=("postgresql", "postgresql+psycopg", "postgres"))
    if name == "REDIS_URL":
        return url_shape(value, schemes=("redis", "rediss"))
    if name in ("STORAGE_BACKEND", "AZURE_BLOB_ENABLED"):
        return f"set ({value.strip().lower()})", ""
    return text_shape(value)


def _required_variables(ctx: Context) -> Outcome:
    settings = ctx.require_settings()
    shown: list[str] = []
    problems: list[str] = []
    database = not any(fnmatch.fnmatchcase("database.reachable", p) for p in ctx.options.skip)
    for name, required in _wanted(settings, database=database):
        value = ctx.environ.get(name, "").strip()
        if not value:
            shown.append(f"{name}: not set" + ("" if required else " (default)"))
            problems += [f"{name} is not set"] if required else []
            continue
        shape, problem = _shape(name, value)
        shown.append(f"{name}: {shape}")
        problems += [f"{name} {problem}"] if problem else []
    try:
        check_storage_settings(settings)
    except StorageConfigError as exc:
        problems.append(f"{exc.reason} (fix: {exc.hint})")
    summary = "; ".join(shown)
    if problems:
        return failed(
            f"{'; '.join(problems)}. Seen: {summary}",
            "set the variables named above (see .env.example); values are never printed",
        )
    return passed(summary)


def _backend_consistent(ctx: Context) -> Outcome:
    settings = ctx.require_settings()
    enabled = settings.azure_blob_enabled
    if settings.storage_backend == "azure" and not enabled:
        return failed(
            "STORAGE_BACKEND is azure but AZURE_BLOB_ENABLED is false: the migration's feature "
            "flag keeps Azure uploads off",
            "set AZURE_BLOB_ENABLED=true (or STORAGE_BACKEND=s3)",
        )
    if settings.storage_backend == "s3" and enabled:
        return failed(
            "AZURE_BLOB_ENABLED is true but STORAGE_BACKEND is s3: the two disagree on where "
            "uploads go",
            "set AZURE_BLOB_ENABLED=false, or STORAGE_BACKEND=azure",
        )
    return passed(f"STORAGE_BACKEND {settings.storage_backend}, AZURE_BLOB_ENABLED {enabled}")


def _https_only(ctx: Context) -> Outcome:
    endpoint = storage_endpoint(ctx.require_settings())
    scheme = urlsplit(endpoint).scheme
    if scheme == "https":
        return passed("the storage endpoint is https")
    if is_loopback_url(endpoint):
        return passed(f"{scheme} allowed: the endpoint is a loopback emulator")
    return failed(
        f"the storage endpoint is {scheme or 'not a URL'}, not https, and not a loopback emulator",
        "use an https endpoint (DefaultEndpointsProtocol=https / an https S3_ENDPOINT_URL)",
    )


CHECKS = (
    Check("config.settings-load", "the settings load", _settings_load, fatal=True),
    Check(
        "config.required-variables",
        "required variables present and well formed",
        _required_variables,
        needs=("config.settings-load",),
    ),
    Check(
        "config.backend-consistent",
        "AZURE_BLOB_ENABLED agrees with STORAGE_BACKEND",
        _backend_consistent,
        needs=("config.settings-load",),
    ),
    Check(
        "config.https-only",
        "storage over HTTPS (except a loopback emulator)",
        _https_only,
        needs=("config.required-variables",),
    ),
)
