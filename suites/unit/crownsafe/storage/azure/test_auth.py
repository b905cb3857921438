"""Unit tests: Azure auth resolution, SAS parameters and the user delegation key cache."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from crownsafe.config import SecretStr, Settings, load_settings
from crownsafe.errors import InvalidBlobNameError, StorageConfigError
from crownsafe.storage.azure import AzureBlobStorageClient
from crownsafe.storage.azure._auth import (
    UserDelegationKeyCache,
    account_name_from_url,
    is_local_emulator,
    parse_connection_string,
    parse_sas_permission,
    resolve_azure_auth,
    sas_protocol,
    sas_window,
)
from harness.identity import FakeTokenCredential

KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
EMULATOR = "http://127.0.0.1:10000/devstoreaccount1"
CONN = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
    f"AccountKey={KEY};BlobEndpoint={EMULATOR};"
)
CLOUD_URL = "https://crownsafe.blob.core.windows.net"
T0 = datetime(2030, 6, 1, 12, 0, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def settings(**values: object) -> Settings:
    return Settings(**values)  # type: ignore[arg-type]


# --- resolution order ---------------------------------------------------------------------


def test_explicit_connection_string_wins_over_settings() -> None:
    auth = resolve_azure_auth(
        connection_string=CONN,
        settings=settings(azure_storage_account_url=CLOUD_URL, azure_use_managed_identity=True),
    )
    assert auth.mode == "connection_string"
    assert auth.account_url == EMULATOR
    assert auth.account_name == "devstoreaccount1"
    assert auth.account_key.get() == KEY


def test_explicit_account_url_and_key() -> None:
    auth = resolve_azure_auth(account_url=CLOUD_URL + "/", account_key=KEY, settings=Settings())
    assert (auth.mode, auth.account_url, auth.account_name) == (
        "account_key",
        CLOUD_URL,
        "crownsafe",
    )


def test_explicit_credential_is_used_and_not_owned() -> None:
    credential = FakeTokenCredential()
    auth = resolve_azure_auth(account_url=CLOUD_URL, credential=credential, settings=Settings())
    assert auth.mode == "token"
    assert auth.credential is credential
    assert auth.owns_credential is False


def test_explicit_credential_takes_url_from_settings() -> None:
    auth = resolve_azure_auth(
        credential=FakeTokenCredential(), settings=settings(azure_storage_account_url=CLOUD_URL)
    )
    assert (auth.mode, auth.account_url) == ("token", CLOUD_URL)


def test_connection_string_and_url_together_is_an_error() -> None:
    with pytest.raises(StorageConfigError, match="either connection_string"):
        resolve_azure_auth(connection_string=CONN, account_url=CLOUD_URL, settings=Settings())


def test_settings_connection_string_first() -> None:
    cfg = settings(
        azure_storage_connection_string=SecretStr(CONN),
        azure_storage_account_url=CLOUD_URL,
        azure_storage_account_key=SecretStr("other"),
    )
    assert resolve_azure_auth(settings=cfg).mode == "connection_string"


def test_settings_url_and_key() -> None:
    cfg = settings(azure_storage_account_url=CLOUD_URL, azure_storage_account_key=SecretStr(KEY))
    auth = resolve_azure_auth(settings=cfg)
    assert (auth.mode, auth.account_name) == ("account_key", "crownsafe")


def test_settings_account_name_builds_the_public_url() -> None:
    cfg = settings(azure_storage_account_name="acme", azure_storage_account_key=SecretStr(KEY))
    auth = resolve_azure_auth(settings=cfg)
    assert auth.account_url == "https://acme.blob.core.windows.net"


def test_settings_managed_identity_uses_the_credential_factory() -> None:
    made: list[FakeTokenCredential] = []

    def factory() -> FakeTokenCredential:
        made.append(FakeTokenCredential())
        return made[-1]

    cfg = settings(azure_storage_account_url=CLOUD_URL, azure_use_managed_identity=True)
    auth = resolve_azure_auth(settings=cfg, credential_factory=factory)
    assert auth.mode == "token"
    assert auth.credential is made[0]
    assert auth.owns_credential is True


def test_settings_managed_identity_default_is_default_azure_credential() -> None:
    cfg = settings(azure_storage_account_url=CLOUD_URL, azure_use_managed_identity=True)
    auth = resolve_azure_auth(settings=cfg)
    assert type(auth.credential).__name__ == "DefaultAzureCredential"


def test_nothing_configured_names_the_variables() -> None:
    with pytest.raises(StorageConfigError) as caught:
        resolve_azure_auth(settings=load_settings({}))
    text = str(caught.value)
    for variable in (
        "AZURE_STORAGE_CONNECTION_STRING",
        "AZURE_STORAGE_ACCOUNT_URL",
        "AZURE_STORAGE_ACCOUNT_KEY",
        "AZURE_USE_MANAGED_IDENTITY",
    ):
        assert variable in text


def test_url_without_credentials_says_what_to_add() -> None:
    with pytest.raises(StorageConfigError, match="AZURE_USE_MANAGED_IDENTITY"):
        resolve_azure_auth(settings=settings(azure_storage_account_url=CLOUD_URL))


def test_malformed_connection_string_does_not_echo_it() -> None:
    with pytest.raises(StorageConfigError) as caught:
        resolve_azure_auth(connection_string=f"AccountKey{KEY}", settings=Settings())
    assert KEY not in str(caught.value)


def test_parse_connection_string_keeps_equals_in_values() -> None:
    pairs = parse_connection_string(CONN)
    assert pairs["ACCOUNTKEY"] == KEY
    assert pairs["BLOBENDPOINT"] == EMULATOR


@pytest.mark.parametrize(
    ("url", "name"),
    [
        (CLOUD_URL, "crownsafe"),
        (EMULATOR, "devstoreaccount1"),
        ("https://127.0.0.1:4443/acct2", "acct2"),
        ("http://localhost:10000/devstoreaccount1/", "devstoreaccount1"),
    ],
)
def test_account_name_from_url(url: str, name: str) -> None:
    assert account_name_from_url(url) == name


# --- SAS parameters -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "canonical"),
    [("r", "r"), ("w", "w"), ("rw", "rw"), ("wr", "rw"), ("c", "c"), ("d", "d"), ("dcwr", "rcwd")],
)
def test_permission_string_is_normalised(given: str, canonical: str) -> None:
    assert parse_sas_permission(given) == canonical


@pytest.mark.parametrize("bad", ["", "rl", "R", "z", "list", "r w"])
def test_unknown_permission_letters_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="SAS permission"):
        parse_sas_permission(bad)


@pytest.mark.parametrize(
    ("url", "protocol"),
    [
        (EMULATOR, "https,http"),
        ("https://127.0.0.1:4443/devstoreaccount1", "https,http"),
        ("http://localhost:10000/devstoreaccount1", "https,http"),
        ("http://[::1]:10000/devstoreaccount1", "https,http"),
        ("http://azurite:10000/devstoreaccount1", "https,http"),
        (CLOUD_URL, "https"),
        ("https://devstore.blob.core.windows.net", "https"),
    ],
)
def test_sas_protocol_is_https_only_off_the_emulator(url: str, protocol: str) -> None:
    assert sas_protocol(url) == protocol
    assert is_local_emulator(url) == (protocol != "https")


def test_sas_window_starts_fifteen_minutes_back() -> None:
    start, expiry = sas_window(T0, 2)
    assert start == T0 - timedelta(minutes=15)
    assert expiry == T0 + timedelta(hours=2)


@pytest.mark.parametrize("hours", [0, -1])
def test_sas_window_rejects_non_positive_expiry(hours: float) -> None:
    with pytest.raises(ValueError, match="expiry_hours"):
        sas_window(T0, hours)


def test_account_key_sas_has_least_privilege_and_times() -> None:
    """A key-signed SAS names exactly the permission, st = now-15min, se = now+hours."""
    client = AzureBlobStorageClient(
        "reports", account_url=CLOUD_URL, account_key=KEY, settings=Settings(), clock=Clock()
    )
    url = client.generate_sas_url("a b/r#1.pdf", expiry_hours=3, permission="rw")
    client.close()
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert parts.path == "/reports/a%20b/r%231.pdf"
    assert query["sp"] == "rw"
    assert query["spr"] == "https"
    assert query["sr"] == "b"
    assert query["st"] == "2030-06-01T11:45:00Z"
    assert query["se"] == "2030-06-01T15:00:00Z"
    assert "sig" in query
    assert KEY not in url


def test_sas_only_connection_string_cannot_sign() -> None:
    """A connection string that carries only a SAS token cannot mint new SAS URLs."""
    conn = f"BlobEndpoint={EMULATOR};SharedAccessSignature=sv=2024-01-01&sig=abc"
    client = AzureBlobStorageClient("reports", connection_string=conn, settings=Settings())
    with pytest.raises(StorageConfigError, match="no account key") as caught:
        client.generate_sas_url("x.txt")
    client.close()
    assert "managed identity" in str(caught.value)
    assert "sig=abc" not in str(caught.value)


def test_invalid_names_fail_before_any_network() -> None:
    client = AzureBlobStorageClient(
        "reports",
        account_url="http://127.0.0.1:9/devstoreaccount1",
        account_key=KEY,
        settings=Settings(),
    )
    with pytest.raises(InvalidBlobNameError):
        client.generate_sas_url("")
    with pytest.raises(InvalidBlobNameError):
        client.upload_file("x" * 1025, b"data")
    client.close()
    with pytest.raises(InvalidBlobNameError):
        AzureBlobStorageClient("NO", connection_string=CONN, settings=Settings())


def test_repr_and_str_never_show_secrets() -> None:
    client = AzureBlobStorageClient("reports", connection_string=CONN, settings=Settings())
    text = repr(client) + str(client) + repr(client._auth)
    client.close()
    assert KEY not in text
    assert "AccountKey" not in text
    assert "devstoreaccount1" in text


def test_settings_drive_container_timeout_and_verify() -> None:
    cfg = settings(
        azure_storage_connection_string=SecretStr(CONN),
        azure_storage_container="from-settings",
        azure_connection_verify="/tmp/cert.pem",
        storage_timeout_seconds=7.5,
    )
    client = AzureBlobStorageClient(settings=cfg)
    config = client._service._pipeline._transport.connection_config  # type: ignore[attr-defined]
    client.close()
    assert client.container_name == "from-settings"
    assert (config.timeout, config.read_timeout, config.verify) == (7.5, 7.5, "/tmp/cert.pem")


# --- user delegation key cache -------------------------------------------------------------


class FakeKeyService:
    def __init__(self) -> None:
        self.requests: list[tuple[datetime, datetime]] = []

    def __call__(self, start: datetime, expiry: datetime) -> str:
        self.requests.append((start, expiry))
        return f"key-{len(self.requests)}"


def test_key_is_fetched_once_and_reused() -> None:
    clock, service = Clock(), FakeKeyService()
    cache = UserDelegationKeyCache(service, clock=clock, lifetime=timedelta(hours=24))
    assert cache.get(T0 + timedelta(hours=1)) == "key-1"
    clock.advance(hours=3)
    assert cache.get(clock.now + timedelta(hours=1)) == "key-1"
    assert service.requests == [(T0 - timedelta(minutes=15), T0 + timedelta(hours=24))]
    assert cache.fetch_count == 1


def test_key_is_renewed_within_the_margin_of_its_expiry() -> None:
    clock, service = Clock(), FakeKeyService()
    cache = UserDelegationKeyCache(
        service, clock=clock, lifetime=timedelta(hours=1), margin=timedelta(minutes=5)
    )
    cache.get(T0 + timedelta(minutes=10))
    clock.advance(minutes=54, seconds=59)
    assert cache.get(clock.now + timedelta(seconds=1)) == "key-1"
    clock.advance(seconds=2)
    assert cache.get(clock.now + timedelta(seconds=1)) == "key-2"
    assert service.requests[1][0] == clock.now - timedelta(minutes=15)


def test_key_is_renewed_when_the_sas_outlives_it() -> None:
    clock, service = Clock(), FakeKeyService()
    cache = UserDelegationKeyCache(service, clock=clock, lifetime=timedelta(hours=24))
    cache.get(T0 + timedelta(hours=1))
    assert cache.get(T0 + timedelta(hours=48)) == "key-2"
    assert service.requests[1][1] == T0 + timedelta(hours=48)
    assert cache.expiry == T0 + timedelta(hours=48)


def test_key_never_asked_beyond_seven_days() -> None:
    clock, service = Clock(), FakeKeyService()
    cache = UserDelegationKeyCache(service, clock=clock, lifetime=timedelta(days=7))
    cache.get(T0 + timedelta(days=7))
    assert service.requests[0][1] == T0 + timedelta(days=7)
    with pytest.raises(ValueError, match="7 days"):
        cache.get(T0 + timedelta(days=7, seconds=1))
    with pytest.raises(ValueError, match="7 days"):
        UserDelegationKeyCache(service, lifetime=timedelta(days=8))


def test_concurrent_callers_fetch_one_key() -> None:
    gate = threading.Event()
    service = FakeKeyService()

    def slow_fetch(start: datetime, expiry: datetime) -> str:
        gate.wait(5)
        return service(start, expiry)

    cache = UserDelegationKeyCache(slow_fetch, clock=Clock())
    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get(T0 + timedelta(hours=1))))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    gate.set()
    for thread in threads:
        thread.join(10)
    assert results == ["key-1"] * 8
    assert len(service.requests) == 1


def test_clear_forces_a_new_key() -> None:
    service = FakeKeyService()
    cache = UserDelegationKeyCache(service, clock=Clock())
    cache.get(T0 + timedelta(hours=1))
    cache.clear()
    assert cache.get(T0 + timedelta(hours=1)) == "key-2"
