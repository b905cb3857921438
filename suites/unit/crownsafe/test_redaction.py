"""The one redactor: every kind of secret is replaced by one marker, the rest stays."""

from __future__ import annotations

import pytest

from crownsafe.redaction import MARKER, contains_secret, known_secrets, redact

EMULATOR_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("DefaultEndpointsProtocol=http;AccountKey=abc/def==;BlobEndpoint=x", "abc/def=="),
        (f"AccountName=a;AccountKey={EMULATOR_KEY};", EMULATOR_KEY),
        ("https://a.blob.core.windows.net/c/b?sv=2024&sig=SiGnAtUrE%3D&se=1", "SiGnAtUrE%3D"),
        ("http://h/b/k?X-Amz-Signature=deadbeef&X-Amz-Date=1", "deadbeef"),
        ("http://h/b/k?X-Amz-Credential=AKIA%2F2024&X-Amz-Signature=0", "AKIA%2F2024"),
        ("http://h/b/k?X-Amz-Security-Token=FwoGZXIvYXdz&x=1", "FwoGZXIvYXdz"),
        ("headers {'Authorization': 'SharedKey devstoreaccount1:zzz'}", "zzz"),
        ("Authorization: SharedKey devstoreaccount1:abcdEFGH=", "abcdEFGH"),
        ("Authorization: AWS4-HMAC-SHA256 Credential=AKIA/x, Signature=deadbeef", "deadbeef"),
        ("header Bearer eyJ0eXAiOiJKV1QifQ.payload.sig", "eyJ0eXAi"),
        ("account_key='topsecret'", "topsecret"),
        ("aws_secret_access_key=wJalrXUtnFEMI", "wJalrXUtnFEMI"),
        ("postgresql+psycopg://user:hunter2@db:5432/x", "hunter2"),
        ("redis://:s3cret@127.0.0.1:6379/0", "s3cret"),
        ("BlobEndpoint=x;SharedAccessSignature=sv=1&sig=q", "sv=1"),
        ("SharedAccessSignature=sv=2020&sig=zzz", "zzz"),
    ],
)
def test_every_kind_of_secret_is_replaced_by_the_marker(text: str, secret: str) -> None:
    """No key, signature, token, Authorization value or URL password survives."""
    redacted = redact(text)
    assert secret not in redacted
    assert MARKER in redacted
    assert contains_secret(text)


def test_plain_text_is_kept() -> None:
    for text in (
        "AssertionError: expected 3 blobs, got 2 (status=404, code=BlobNotFound)",
        "The specified blob does not exist.",
        "https://acct.blob.core.windows.net/c/b.png",
    ):
        assert redact(text) == text
        assert not contains_secret(text)


def test_the_rest_of_a_url_stays_readable() -> None:
    assert redact("GET /k?X-Amz-Signature=abc&partNumber=2 ok") == (
        f"GET /k?X-Amz-Signature={MARKER}&partNumber=2 ok"
    )


def test_named_secrets_are_replaced_wherever_they_appear() -> None:
    assert redact("key=topsecret!", "topsecret") == f"key={MARKER}!"
    assert redact("nothing to hide", None, "") == "nothing to hide"


def test_known_secrets_come_from_secret_named_variables_and_embedded_keys() -> None:
    environ = {
        "AZURE_STORAGE_ACCOUNT_KEY": "a2V5a2V5a2V5",
        "HARNESS_AZURE_CONNECTION_STRING": "AccountName=a;AccountKey=ZW1iZWRkZWQ=;X=y",
        "DATABASE_URL": "postgresql://app:hunter2pass@db/x",
        "AWS_REGION": "eu-west-1",
        "SHORT_KEY": "abc",
    }
    secrets = known_secrets(environ)
    assert {"a2V5a2V5a2V5", "ZW1iZWRkZWQ=", "hunter2pass"} <= set(secrets)
    assert "eu-west-1" not in secrets and "abc" not in secrets
    assert (
        redact("truncated 'Default...ZW1iZWRkZWQ=;'", *secrets)
        == f"truncated 'Default...{MARKER};'"
    )
