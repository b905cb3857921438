"""Reading SAS and presigned URLs: made by the real SDKs (signing is local, no I/O), then
read back, tampered with, and checked against the right and a wrong key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit

import boto3
import pytest
from azure.storage.blob import BlobSasPermissions, generate_blob_sas
from botocore.config import Config

from crownsafe.storage.url_inspect import inspect_url, renew_if_expiring

NOW = datetime(2026, 12, 7, 21, 0, tzinfo=UTC)
AZURE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
OTHER_KEY = "b3RoZXIta2V5LW9mLXRoZS1zYW1lLWxlbmd0aC1hcy1hbi1henVyZS1rZXktLS0tLS0tLS0tLS0tLS0tLS0="
S3_SECRET = "test-secret-key"


def _azure_url(permission: str = "r", hours: float = 1.0) -> str:
    token = generate_blob_sas(
        account_name="devstoreaccount1",
        container_name="photos",
        blob_name="uploads/7/a b.jpg",
        account_key=AZURE_KEY,
        permission=BlobSasPermissions.from_string(permission),
        start=NOW - timedelta(minutes=15),
        expiry=NOW + timedelta(hours=hours),
        protocol="https,http",
    )
    return f"http://127.0.0.1:10000/devstoreaccount1/photos/uploads/7/a%20b.jpg?{token}"


def _s3_url(method: str = "get_object", seconds: int = 600, endpoint: str | None = None) -> str:
    client = boto3.client(
        "s3",
        region_name="eu-west-1",
        endpoint_url=endpoint,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key=S3_SECRET,
        config=Config(signature_version="s3v4", s3={"addressing_style": "virtual"}),
    )
    return str(
        client.generate_presigned_url(
            method, Params={"Bucket": "photos", "Key": "uploads/7/a.jpg"}, ExpiresIn=seconds
        )
    )


def _with(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    params.update(changes)
    return parts._replace(query=urlencode(params)).geturl()


def test_an_azure_sas_says_its_object_permissions_and_window() -> None:
    seen = inspect_url(_azure_url("rw", hours=2), azure_account_key=AZURE_KEY, now=NOW)
    assert (seen.kind, seen.container, seen.blob_name) == (
        "azure-sas",
        "photos",
        "uploads/7/a b.jpg",
    )
    assert seen.permissions == ["read", "write"]
    assert seen.start == NOW - timedelta(minutes=15) and seen.expiry == NOW + timedelta(hours=2)
    assert (seen.expired, seen.remaining_seconds) == (False, 7200.0)
    assert seen.signature == "verified"
    assert "sig=" not in str(seen.as_dict()) and AZURE_KEY not in str(seen.as_dict())


@pytest.mark.parametrize(
    ("change", "key"),
    [({"sp": "rwd"}, AZURE_KEY), ({"se": "2027-01-01T00:00:00Z"}, AZURE_KEY), ({}, OTHER_KEY)],
    ids=["widened permission", "moved expiry", "another key"],
)
def test_a_tampered_or_foreign_azure_sas_does_not_verify(change: dict[str, str], key: str) -> None:
    seen = inspect_url(_with(_azure_url(), **change), azure_account_key=key, now=NOW)
    assert seen.signature == "does not verify"


def test_without_a_key_nothing_is_claimed_and_expiry_is_still_read() -> None:
    seen = inspect_url(_azure_url(hours=1), now=NOW + timedelta(hours=2))
    assert seen.signature == "not checked" and seen.expired
    assert seen.remaining_seconds == -3600.0


@pytest.mark.parametrize("endpoint", [None, "http://127.0.0.1:9000"], ids=["aws", "path-style"])
def test_an_s3_presigned_url_is_bound_to_its_one_method(endpoint: str | None) -> None:
    url = _s3_url("put_object", seconds=600, endpoint=endpoint)
    seen = inspect_url(url, s3_secret_key=S3_SECRET)
    assert (seen.kind, seen.container, seen.blob_name) == (
        "s3-presigned",
        "photos",
        "uploads/7/a.jpg",
    )
    assert seen.permissions == ["PUT"] and seen.signature == "verified"
    assert seen.expiry - seen.start == timedelta(seconds=600)  # type: ignore[operator]
    assert seen.extra["region"] == "eu-west-1"


def test_a_tampered_or_foreign_s3_url_does_not_verify() -> None:
    url = _s3_url()
    assert inspect_url(_with(url, **{"X-Amz-Expires": "604800"}), s3_secret_key=S3_SECRET
                       ).signature == "does not verify"  # fmt: skip
    assert inspect_url(url, s3_secret_key="another-secret").signature == "does not verify"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://example.com/a.jpg", "not a SAS or presigned URL"),
        ("https://a.blob.core.windows.net/c/b?sig=abc&sp=r", "without an expiry"),
        ("https://b.s3.amazonaws.com/k?X-Amz-Signature=ab", "without X-Amz-Credential"),
    ],
)
def test_anything_else_is_a_clear_error(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        inspect_url(url)


def test_a_url_is_renewed_only_when_it_is_about_to_expire() -> None:
    url = _azure_url(hours=1)
    minted: list[str] = []

    def mint() -> str:
        minted.append("new")
        return "https://renewed"

    assert renew_if_expiring(url, mint, min_remaining_s=60, now=NOW) == url
    late = NOW + timedelta(minutes=59, seconds=30)
    assert renew_if_expiring(url, mint, min_remaining_s=60, now=late) == "https://renewed"
    assert minted == ["new"]
