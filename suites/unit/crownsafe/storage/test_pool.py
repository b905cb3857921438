"""Connection pool settings: STORAGE_MAX_CONNECTIONS / STORAGE_CONNECT_TIMEOUT_SECONDS and
the `max_connections` / `connect_timeout` keywords, down to what each SDK was given."""

from __future__ import annotations

import math
from typing import Any

import pytest

from crownsafe.config import MAX_CONNECTIONS_RANGE, Settings, load_settings
from crownsafe.deadline import deadline_scope
from crownsafe.errors import StorageConfigError
from crownsafe.storage.azure import AzureBlobStorageClient
from crownsafe.storage.azure._transfer import PooledRequestsTransport, call_options
from crownsafe.storage.pool import pool_options
from crownsafe.storage.s3 import S3StorageClient

from .test_factory import EMULATOR_KEY

CONNECTION_STRING = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
    f"AccountKey={EMULATOR_KEY};BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;"
)


def test_the_settings_read_both_variables_with_their_defaults() -> None:
    assert (Settings().storage_max_connections, Settings().storage_connect_timeout_seconds) == (
        10,
        30.0,
    )
    loaded = load_settings(
        {"STORAGE_MAX_CONNECTIONS": "32", "STORAGE_CONNECT_TIMEOUT_SECONDS": "2.5"}
    )
    assert (loaded.storage_max_connections, loaded.storage_connect_timeout_seconds) == (32, 2.5)


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"STORAGE_MAX_CONNECTIONS": "0"}, "STORAGE_MAX_CONNECTIONS=0 is out of range"),
        ({"STORAGE_MAX_CONNECTIONS": "1025"}, "allowed 1..1024"),
        ({"STORAGE_MAX_CONNECTIONS": "ten"}, "STORAGE_MAX_CONNECTIONS='ten' is not a whole"),
        ({"STORAGE_CONNECT_TIMEOUT_SECONDS": "0"}, "STORAGE_CONNECT_TIMEOUT_SECONDS=0.0 is out"),
        ({"STORAGE_CONNECT_TIMEOUT_SECONDS": "-1"}, "STORAGE_CONNECT_TIMEOUT_SECONDS=-1.0"),
        ({"STORAGE_CONNECT_TIMEOUT_SECONDS": "inf"}, "is not a finite number"),
    ],
)
def test_a_bad_value_fails_at_load_time_naming_the_variable(
    env: dict[str, str], words: str
) -> None:
    with pytest.raises(StorageConfigError, match="set STORAGE_") as caught:
        load_settings(env)
    assert words in str(caught.value)


def test_a_keyword_wins_else_the_setting_and_connect_defaults_to_the_timeout() -> None:
    settings = Settings(storage_max_connections=32, storage_connect_timeout_seconds=2.0)
    assert pool_options(None, None, settings, timeout=7.0) == (7.0, 32)
    assert pool_options(1.5, 4, settings, timeout=7.0) == (1.5, 4)


def test_the_pool_never_holds_fewer_connections_than_one_upload_sends_at_once() -> None:
    assert pool_options(None, 4, Settings(), timeout=1.0, max_concurrency=8) == (1.0, 8)


@pytest.mark.parametrize(
    ("connect", "size", "words"),
    [
        (0.0, 10, "connect_timeout=0.0 is out of range"),
        (math.nan, 10, "connect_timeout=nan is out of range"),
        ("5", 10, "connect_timeout='5' is not a number"),
        (True, 10, "connect_timeout=True is not a number"),
        (1.0, 0, "max_connections=0 is out of range"),
        (1.0, MAX_CONNECTIONS_RANGE[1] + 1, "max_connections=1025 is out of range"),
        (1.0, 2.5, "max_connections=2.5 is out of range"),
        (1.0, True, "max_connections=True is out of range"),
    ],
)
def test_a_bad_keyword_is_a_config_error_naming_it_and_its_variable(
    connect: Any, size: Any, words: str
) -> None:
    with pytest.raises(StorageConfigError) as caught:
        pool_options(connect, size, Settings(), timeout=1.0)
    text = str(caught.value)
    assert words in text
    assert "STORAGE_CONNECT_TIMEOUT_SECONDS" in text or "STORAGE_MAX_CONNECTIONS" in text


def test_azure_mounts_a_pool_of_max_connections_with_sdk_retries_off() -> None:
    client = AzureBlobStorageClient(
        "unit-pool",
        connection_string=CONNECTION_STRING,
        timeout=9.0,
        connect_timeout=3.0,
        max_connections=7,
    )
    try:
        transport: Any = client._service._config.transport
        assert isinstance(transport, PooledRequestsTransport)
        assert client.max_connections == transport.max_connections == 7
        config = transport.connection_config
        assert (config.timeout, config.read_timeout) == (3.0, 9.0)
        transport.open()
        for prefix in ("http://", "https://"):
            adapter = transport.session.get_adapter(prefix + "example")
            assert adapter._pool_maxsize == 7
            assert adapter.max_retries.total is False
            assert adapter.poolmanager.connection_pool_kw["maxsize"] == 7
    finally:
        client.close()


def test_azure_takes_the_pool_size_from_the_settings_when_not_given() -> None:
    settings = Settings(storage_max_connections=24)
    client = AzureBlobStorageClient(
        "unit-pool", connection_string=CONNECTION_STRING, settings=settings
    )
    try:
        assert client.max_connections == 24
    finally:
        client.close()


def test_s3_gives_botocore_the_pool_size_and_the_connect_timeout() -> None:
    client = S3StorageClient(
        "unit-bucket",
        endpoint_url="http://127.0.0.1:9",
        region="us-east-1",
        access_key_id="AKIDTEST",
        secret_access_key="secret",
        timeout=9.0,
        connect_timeout=2.0,
        max_connections=64,
    )
    try:
        config: Any = client._client.meta.config
        assert (config.max_pool_connections, config.connect_timeout, config.read_timeout) == (
            64,
            2.0,
            9.0,
        )
        assert client.max_connections == 64
    finally:
        client.close()


def test_a_deadline_caps_the_connect_and_read_timeouts_each_to_the_time_left() -> None:
    now = [100.0]

    def clock() -> float:
        return now[0]

    assert "connection_timeout" not in call_options(30.0, 5.0)
    with deadline_scope(104.0, clock):  # 4 s left: below both
        options = call_options(30.0, 5.0)
    assert (options["connection_timeout"], options["read_timeout"]) == (4.0, 4.0)
    with deadline_scope(110.0, clock):  # 10 s left: the read timeout is capped, not connect
        options = call_options(30.0, 5.0)
    assert (options["connection_timeout"], options["read_timeout"]) == (5.0, 10.0)
    with deadline_scope(140.0, clock):
        assert "read_timeout" not in call_options(30.0, 5.0)
