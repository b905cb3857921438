"""Emulator gaps are skipped only on a loopback S3 emulator; anywhere else they fail."""

from __future__ import annotations

from typing import Any

import pytest

from crownsafe.config import SecretStr, Settings
from harness.predeploy.checks import sas, storage
from harness.predeploy.context import Context
from harness.predeploy.http import HttpAnswer


class _Client:
    container_name = "bucket"

    def __init__(self, backend: str) -> None:
        self.backend = backend

    def get_blob_url(self, name: str) -> str:
        return f"https://example.invalid/bucket/{name}"


def _context(backend: str, endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Context:
    accepted = HttpAnswer(200, b"")
    for module in (sas, storage):
        monkeypatch.setattr(module, "request", lambda *a, **k: accepted)
    if backend == "s3":
        settings = Settings(storage_backend="s3", s3_endpoint_url=endpoint)
    else:
        settings = Settings(azure_storage_account_url=endpoint)
    ctx = Context(environ={}, settings=settings)
    ctx._storage = _Client(backend)  # type: ignore[assignment]
    ctx.notes["sas.read-url"] = f"{endpoint}/bucket/probe?X-Amz-Signature=abc"
    return ctx


@pytest.mark.parametrize(
    ("backend", "endpoint", "expected"),
    [
        ("s3", "http://127.0.0.1:5000", "skipped"),
        ("s3", "https://s3.eu-west-1.amazonaws.com", "failed"),
        ("s3", "https://minio.internal:9000", "failed"),
        ("azure", "http://127.0.0.1:10000/devstoreaccount1", "failed"),
    ],
)
def test_an_accepted_write_with_a_read_url(
    backend: str, endpoint: str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    outcome = sas._read_refuses_write(_context(backend, endpoint, monkeypatch))
    assert outcome.status == expected, outcome
    if expected == "skipped":
        assert "moto does not verify presigned signatures" in outcome.message


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [("http://localhost:5000", "skipped"), ("https://s3.amazonaws.com", "failed")],
)
def test_an_anonymous_listing_that_succeeds(
    endpoint: str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    outcome = storage._anonymous_list_refused(_context("s3", endpoint, monkeypatch))
    assert outcome.status == expected, outcome


def test_refused_write_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = _context("s3", "https://s3.amazonaws.com", monkeypatch)
    refused: Any = lambda *a, **k: HttpAnswer(403, b"<Code>SignatureDoesNotMatch</Code>")  # noqa: E731
    monkeypatch.setattr(sas, "request", refused)
    outcome = sas._read_refuses_write(ctx)
    assert outcome.status == "passed" and "SignatureDoesNotMatch" in outcome.message


class _Lister:
    def __init__(self, refuse: bool) -> None:
        self.refuse = refuse

    def list_blobs(self, max_results: int) -> list[str]:
        from crownsafe.errors import StorageAuthError

        if self.refuse:
            raise StorageAuthError("403 InvalidAccessKeyId")
        return []

    def close(self) -> None:
        pass


@pytest.mark.parametrize(
    ("endpoint", "refuse", "expected"),
    [
        ("http://127.0.0.1:5000", False, "skipped"),
        ("http://127.0.0.1:5000", True, "passed"),
        ("https://s3.eu-west-1.amazonaws.com", True, "passed"),
        ("https://minio.internal:9000", False, "failed"),
    ],
)
def test_credentials_verified_with_a_made_up_key(
    endpoint: str, refuse: bool, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    used: list[Settings] = []

    def build(settings: Settings, resilient: bool) -> _Lister:
        used.append(settings)
        return _Lister(refuse)

    monkeypatch.setattr("crownsafe.storage.factory.create_storage_client", build)
    settings = Settings(
        storage_backend="s3",
        s3_endpoint_url=endpoint,
        aws_access_key_id="AKIAREALREALREALREAL",
        aws_secret_access_key=SecretStr("real-secret"),
    )
    outcome = storage._credentials_verified(Context(environ={}, settings=settings))
    assert outcome.status == expected, outcome
    [forged] = used
    assert forged.aws_access_key_id != settings.aws_access_key_id
    assert forged.aws_secret_access_key.get() != "real-secret"
    if expected == "skipped":
        assert "moto does not check credentials" in outcome.message


def test_credentials_verified_forges_the_account_key_of_a_connection_string() -> None:
    real = "DefaultEndpointsProtocol=http;AccountName=a;AccountKey=cmVhbA==;BlobEndpoint=http://x"
    forged = storage._forged(Settings(azure_storage_connection_string=SecretStr(real)))
    assert forged is not None
    text = forged.azure_storage_connection_string.get()
    assert "AccountKey=cmVhbA==" not in text and "AccountName=a;" in text and "BlobEndpoint" in text
    assert storage._forged(Settings(azure_use_managed_identity=True)) is None
