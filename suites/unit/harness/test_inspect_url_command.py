"""`crownsafe-harness inspect-url`: the exit status says whether our key signed the URL;
neither the key nor the signature is ever printed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from azure.storage.blob import generate_blob_sas

from harness import cli

KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
CONNECTION = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
    f"AccountKey={KEY};BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"
)


def _url() -> str:
    now = datetime.now(UTC)
    token = generate_blob_sas(
        account_name="devstoreaccount1", container_name="c", blob_name="shares/1/x.json",
        account_key=KEY, permission="r", start=now - timedelta(minutes=15),
        expiry=now + timedelta(minutes=5),
    )  # fmt: skip
    return f"http://127.0.0.1:10000/devstoreaccount1/c/shares/1/x.json?{token}"


def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AZURE_STORAGE_ACCOUNT_KEY", "AZURE_STORAGE_CONNECTION_STRING",
                 "AWS_SECRET_ACCESS_KEY"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)


def test_a_url_our_key_signed_is_exit_0_and_the_secrets_stay_out(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _clean_env(monkeypatch)
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", CONNECTION)
    url = _url()
    assert cli.main(["inspect-url", url, "--json"]) == 0
    out, err = capsys.readouterr()
    seen = json.loads(out)
    assert (seen["signature"], seen["permissions"]) == ("verified", ["read"])
    assert seen["blob_name"] == "shares/1/x.json" and 0 < seen["remaining_seconds"] <= 300
    signature = dict(parse_qsl(urlsplit(url).query))["sig"]
    assert signature not in out + err and KEY not in out + err


def test_without_a_key_it_is_not_checked_exit_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _clean_env(monkeypatch)
    assert cli.main(["inspect-url", _url()]) == 3
    out, _ = capsys.readouterr()
    assert "signature:   not checked (no account key given)" in out
    assert "permissions: read" in out


def test_a_tampered_url_is_exit_1(monkeypatch: pytest.MonkeyPatch) -> None:
    _clean_env(monkeypatch)
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_KEY", KEY)
    assert cli.main(["inspect-url", _url().replace("sp=r", "sp=rw")]) == 1


def test_a_plain_url_is_exit_2_saying_why(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _clean_env(monkeypatch)
    assert cli.main(["inspect-url", "https://example.com/a.jpg"]) == 2
    assert "not a SAS or presigned URL" in capsys.readouterr().err
