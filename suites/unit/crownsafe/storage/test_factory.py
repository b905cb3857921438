"""create_storage_client: backend choice, config errors naming the variable, resilience wrap."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import types
from typing import Any

import pytest

from crownsafe.config import SecretStr, Settings
from crownsafe.errors import StorageConfigError
from crownsafe.storage.base import StorageClient
from crownsafe.storage.factory import check_storage_settings, create_storage_client

RESILIENT = "crownsafe.storage.resilient"
EMULATOR_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
AZURE = Settings(
    storage_backend="azure",
    azure_blob_enabled=True,
    azure_storage_connection_string=SecretStr(
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
        f"AccountKey={EMULATOR_KEY};BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"
    ),
    azure_storage_container="unit-container",
    storage_resilient=False,
)
S3 = Settings(
    storage_backend="s3",
    s3_bucket="unit-bucket",
    s3_endpoint_url="http://127.0.0.1:5000",
    aws_access_key_id="AKIDEXAMPLE",
    aws_secret_access_key=SecretStr("S3SECRETVALUE"),
    storage_resilient=False,
)


class FakeClient:
    """Stands in for an SDK client where only the factory's own logic is under test."""

    backend = "azure"

    def __init__(self, container_name: str | None = None, **kwargs: Any) -> None:
        self.container_name = container_name
        self.kwargs = kwargs
        self.closed = False

    def close(self) -> None:
        self.closed = True


class FakeResilient:
    def __init__(self, inner: object, settings: Settings) -> None:
        self.inner = inner
        self.settings = settings

    @classmethod
    def from_settings(cls, inner: object, settings: Settings) -> FakeResilient:
        return cls(inner, settings)


@pytest.fixture
def fake_azure(monkeypatch: pytest.MonkeyPatch) -> list[FakeClient]:
    made: list[FakeClient] = []

    class Recording(FakeClient):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    module = types.ModuleType("crownsafe.storage.azure")
    module.AzureBlobStorageClient = Recording  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "crownsafe.storage.azure", module)
    return made


@pytest.fixture
def fake_resilient(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType(RESILIENT)
    module.ResilientStorageClient = FakeResilient  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, RESILIENT, module)


# --- the real clients -------------------------------------------------------------------


def test_azure_backend_builds_the_azure_client() -> None:
    from crownsafe.storage.azure import AzureBlobStorageClient

    client = create_storage_client(AZURE)
    try:
        assert isinstance(client, AzureBlobStorageClient)
        assert isinstance(client, StorageClient)
        assert (client.backend, client.container_name) == ("azure", "unit-container")
        assert client.get_blob_url("a b.txt") == (
            "http://127.0.0.1:10000/devstoreaccount1/unit-container/a%20b.txt"
        )
    finally:
        client.close()


def test_s3_backend_builds_the_s3_client() -> None:
    from crownsafe.storage.s3 import S3StorageClient

    client = create_storage_client(S3)
    try:
        assert isinstance(client, S3StorageClient)
        assert (client.backend, client.container_name) == ("s3", "unit-bucket")
        assert client.endpoint_url == "http://127.0.0.1:5000"
        assert "S3SECRETVALUE" not in repr(client)
    finally:
        client.close()


def test_default_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for field in dataclasses.fields(Settings):
        monkeypatch.delenv(field.name.upper(), raising=False)
    monkeypatch.setenv("STORAGE_BACKEND", "s3")
    monkeypatch.setenv("S3_BUCKET", "env-bucket")
    monkeypatch.setenv("STORAGE_RESILIENT", "false")
    client = create_storage_client()
    try:
        assert (client.backend, client.container_name) == ("s3", "env-bucket")
    finally:
        client.close()


# --- factory logic with a stand-in client -----------------------------------------------


def test_factory_passes_container_settings_and_timeout(fake_azure: list[FakeClient]) -> None:
    settings = dataclasses.replace(AZURE, storage_timeout_seconds=7.5)
    client: object = create_storage_client(settings)
    assert fake_azure == [client]
    assert fake_azure[0].container_name == "unit-container"
    assert fake_azure[0].kwargs == {
        "settings": settings,
        "timeout": 7.5,
        "max_connections": 10,
        "connect_timeout": 30.0,
    }


def test_factory_passes_the_pool_settings_and_lets_a_keyword_win(
    fake_azure: list[FakeClient],
) -> None:
    settings = dataclasses.replace(
        AZURE, storage_max_connections=32, storage_connect_timeout_seconds=2.5
    )
    create_storage_client(settings)
    create_storage_client(settings, max_connections=4)
    assert [(c.kwargs["max_connections"], c.kwargs["connect_timeout"]) for c in fake_azure] == [
        (32, 2.5),
        (4, 2.5),
    ]


def test_resilient_wrap_follows_the_flag_and_the_setting(
    fake_azure: list[FakeClient], fake_resilient: None
) -> None:
    wrapped = create_storage_client(AZURE, resilient=True)
    assert isinstance(wrapped, FakeResilient)
    assert wrapped.inner is fake_azure[-1] and wrapped.settings is AZURE
    assert isinstance(
        create_storage_client(dataclasses.replace(AZURE, storage_resilient=True)), FakeResilient
    )
    assert isinstance(create_storage_client(AZURE), FakeClient)
    on = dataclasses.replace(AZURE, storage_resilient=True)
    assert isinstance(create_storage_client(on, resilient=False), FakeClient)


def test_a_missing_resilient_module_fails_and_never_gives_a_bare_client(
    fake_azure: list[FakeClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Asked for resilience, the factory never hands out a client without it."""
    monkeypatch.setitem(sys.modules, RESILIENT, None)
    with pytest.raises(ImportError):
        create_storage_client(AZURE, resilient=True)
    assert fake_azure[-1].closed


def test_a_wrapper_that_cannot_be_built_closes_the_client(
    fake_azure: list[FakeClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    class Broken:
        @classmethod
        def from_settings(cls, inner: object, settings: Settings) -> object:
            raise ValueError("no breaker for this backend")

    module = types.ModuleType(RESILIENT)
    module.ResilientStorageClient = Broken  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, RESILIENT, module)
    with pytest.raises(ValueError, match="no breaker"):
        create_storage_client(AZURE, resilient=True)
    assert fake_azure[-1].closed


# --- configuration errors ---------------------------------------------------------------


def _azure(**changes: Any) -> Settings:
    base = dataclasses.replace(AZURE, azure_storage_connection_string=SecretStr(""))
    return dataclasses.replace(base, **changes)


def _s3(**changes: Any) -> Settings:
    return dataclasses.replace(S3, **changes)


KEY = SecretStr("AZUREKEYSECRET==")
CONFIG_ERRORS = [
    ("azure-nothing", _azure(), "AZURE_STORAGE_CONNECTION_STRING"),
    (
        "azure-url-only",
        _azure(azure_storage_account_url="https://a.blob.core.windows.net"),
        "AZURE_STORAGE_ACCOUNT_KEY",
    ),
    ("azure-name-only", _azure(azure_storage_account_name="acct"), "AZURE_USE_MANAGED_IDENTITY"),
    ("azure-key-only", _azure(azure_storage_account_key=KEY), "AZURE_STORAGE_ACCOUNT_URL"),
    ("azure-mi-only", _azure(azure_use_managed_identity=True), "AZURE_STORAGE_ACCOUNT_NAME"),
    (
        "azure-container",
        dataclasses.replace(AZURE, azure_storage_container="Bad_Name"),
        "AZURE_STORAGE_CONTAINER",
    ),
    (
        "azure-no-container",
        dataclasses.replace(AZURE, azure_storage_container=""),
        "AZURE_STORAGE_CONTAINER",
    ),
    (
        "azure-bad-url",
        _azure(
            azure_storage_account_url="acct.blob.core.windows.net", azure_storage_account_key=KEY
        ),
        "AZURE_STORAGE_ACCOUNT_URL",
    ),
    (
        "azure-sas-url",
        _azure(
            azure_storage_account_url="https://a.blob.core.windows.net/?sig=SASSECRET",
            azure_storage_account_key=KEY,
        ),
        "AZURE_STORAGE_ACCOUNT_URL",
    ),
    ("s3-bucket", _s3(s3_bucket="192.168.0.1"), "S3_BUCKET"),
    ("s3-no-bucket", _s3(s3_bucket=""), "S3_BUCKET"),
    ("s3-id-only", _s3(aws_secret_access_key=SecretStr("")), "AWS_SECRET_ACCESS_KEY"),
    ("s3-secret-only", _s3(aws_access_key_id=""), "AWS_ACCESS_KEY_ID"),
    ("s3-endpoint", _s3(s3_endpoint_url="127.0.0.1:5000"), "S3_ENDPOINT_URL"),
    ("s3-region", _s3(aws_region=""), "AWS_REGION"),
    ("timeout-zero", _s3(storage_timeout_seconds=0.0), "STORAGE_TIMEOUT_SECONDS"),
    ("timeout-nan", _s3(storage_timeout_seconds=float("nan")), "STORAGE_TIMEOUT_SECONDS"),
    ("retries-negative", _azure(storage_max_retries=-1), "STORAGE_MAX_RETRIES"),
    ("delay-negative", _s3(storage_retry_base_delay=-0.5), "STORAGE_RETRY_BASE_DELAY"),
]


@pytest.mark.parametrize(
    ("settings", "variable"),
    [case[1:] for case in CONFIG_ERRORS],
    ids=[case[0] for case in CONFIG_ERRORS],
)
def test_config_errors_name_the_variable_before_any_sdk_import(
    settings: Settings, variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "crownsafe.storage.azure", None)
    monkeypatch.setitem(sys.modules, "crownsafe.storage.s3", None)
    with pytest.raises(StorageConfigError) as caught:
        create_storage_client(settings)
    message = str(caught.value)
    assert variable in message
    assert "Fix:" in message
    for secret in ("AZUREKEYSECRET", "SASSECRET", "S3SECRETVALUE", EMULATOR_KEY):
        assert secret not in message


def test_valid_settings_pass_the_check() -> None:
    check_storage_settings(AZURE)
    check_storage_settings(S3)
    check_storage_settings(
        _azure(azure_storage_account_name="acct", azure_use_managed_identity=True)
    )
    check_storage_settings(_s3(aws_access_key_id="", aws_secret_access_key=SecretStr("")))


def test_package_import_loads_no_sdk() -> None:
    code = (
        "import sys, crownsafe.storage, crownsafe.config\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('azure', 'boto3', "
        "'botocore') or m in ('crownsafe.storage.azure', 'crownsafe.storage.s3'))\n"
        "print(','.join(loaded))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_real_resilient_wrapper_is_used_when_present() -> None:
    from crownsafe.storage.resilient import ResilientStorageClient
    from crownsafe.storage.s3 import S3StorageClient

    client = create_storage_client(dataclasses.replace(S3, storage_resilient=True))
    try:
        assert isinstance(client, ResilientStorageClient)
        assert isinstance(client.inner, S3StorageClient)
        assert (client.backend, client.container_name) == ("s3", "unit-bucket")
    finally:
        client.close()


@pytest.mark.parametrize("settings", [AZURE, S3], ids=["azure", "s3"])
def test_async_factory_builds_the_async_client_on_the_sync_clients_breaker(
    settings: Settings,
) -> None:
    """create_async_storage_client: the backend's async client behind the async resilient
    wrapper, on the process-wide breaker the sync client uses (no I/O is made)."""
    import asyncio

    from crownsafe.resilience import breaker_for_backend
    from crownsafe.storage.factory import create_async_storage_client
    from crownsafe.storage.resilient_async import AsyncResilientStorageClient

    client = create_async_storage_client(settings, resilient=True, max_connections=3)
    assert isinstance(client, AsyncResilientStorageClient)
    assert type(client.inner).__name__.startswith("Async")
    assert client.breaker is breaker_for_backend(settings.storage_backend)
    assert client.container_name == (
        settings.azure_storage_container if settings is AZURE else settings.s3_bucket
    )
    asyncio.run(client.close())


def test_async_factory_refuses_writes_when_azure_is_off() -> None:
    import asyncio

    from crownsafe.errors import StorageWritesDisabledError
    from crownsafe.storage.factory import create_async_storage_client

    client = create_async_storage_client(dataclasses.replace(AZURE, azure_blob_enabled=False))

    async def upload() -> None:
        try:
            await client.upload_file("x.bin", b"x")
        finally:
            await client.close()

    with pytest.raises(StorageWritesDisabledError, match="upload_file was refused"):
        asyncio.run(upload())


def test_async_factory_checks_the_settings_first() -> None:
    from crownsafe.storage.factory import create_async_storage_client

    with pytest.raises(StorageConfigError, match="S3_BUCKET"):
        create_async_storage_client(dataclasses.replace(S3, s3_bucket=""))
