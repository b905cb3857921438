"""Blob URL parsing and building: round trips, encodings, SAS stripping, typed errors."""

from __future__ import annotations

import re
from typing import Literal

import boto3
import pytest
from azure.storage.blob import BlobClient
from botocore.config import Config
from hypothesis import given, settings
from hypothesis import strategies as st

from crownsafe.errors import InvalidBlobNameError, StorageError
from crownsafe.storage.naming import is_valid_blob_name
from crownsafe.storage.urls import (
    BlobLocation,
    InvalidBlobUrlError,
    azure_blob_url,
    is_azure_blob_url,
    is_s3_url,
    parse_blob_url,
    quote_blob_name,
    s3_object_url,
    to_blob_uri,
    to_s3_uri,
)

SPECIAL = " #?%+&=;:@$,!'()*[]~é中😀"
NAME_CHARS = st.one_of(
    st.sampled_from(SPECIAL),
    st.characters(exclude_categories=("Cc", "Cs", "Co"), exclude_characters="\\"),
)
VALID_NAMES = st.text(NAME_CHARS, min_size=1, max_size=60).filter(is_valid_blob_name)
CONTAINERS = st.from_regex(r"\A[a-z0-9](?:-?[a-z0-9]){2,20}\Z")
BUCKETS = st.from_regex(r"\A[a-z][a-z0-9]{2,20}\Z")
ACCOUNTS = st.from_regex(r"\A[a-z0-9]{3,24}\Z")
SECRET = "sig=TOPSECRETSIGNATURE"
ENCODED_TAIL = re.compile(r"^(?:[A-Za-z0-9_.~/-]|%[0-9A-F]{2})+$")


# --- build then parse -------------------------------------------------------------------


@settings(deadline=None)
@given(CONTAINERS, VALID_NAMES)
def test_blob_uri_round_trip(container: str, name: str) -> None:
    uri = to_blob_uri(container, name)
    assert ENCODED_TAIL.match(uri.removeprefix(f"blob://{container}/"))
    assert parse_blob_url(uri) == BlobLocation("blob", container, name)
    assert parse_blob_url(uri).blob_name.encode("utf-8") == name.encode("utf-8")


@settings(deadline=None)
@given(BUCKETS, VALID_NAMES)
def test_s3_uri_round_trip(bucket: str, key: str) -> None:
    location = parse_blob_url(to_s3_uri(bucket, key))
    assert location == BlobLocation("s3", bucket, key)
    assert location.to_url() == to_s3_uri(bucket, key)


@settings(deadline=None)
@given(ACCOUNTS, CONTAINERS, VALID_NAMES)
def test_azure_url_round_trip_and_matches_the_sdk(account: str, container: str, name: str) -> None:
    account_url = f"https://{account}.blob.core.windows.net"
    url = azure_blob_url(account_url, container, name)
    assert url == BlobClient(account_url, container, name).url
    location = parse_blob_url(url)
    assert location == BlobLocation("azure", container, name, account, account_url)
    assert location.to_url() == url
    assert is_azure_blob_url(url) and not is_s3_url(url)


@settings(deadline=None)
@given(st.sampled_from(["127.0.0.1", "localhost", "azurite", "[::1]"]), CONTAINERS, VALID_NAMES)
def test_emulator_url_round_trip(host: str, container: str, name: str) -> None:
    account_url = f"http://{host}:10000/devstoreaccount1"
    url = azure_blob_url(account_url + "/", container, name)
    assert url == BlobClient(account_url, container, name).url
    location = parse_blob_url(url)
    assert location == BlobLocation("azure", container, name, "devstoreaccount1", account_url)
    assert is_azure_blob_url(url)


@settings(deadline=None)
@given(BUCKETS, VALID_NAMES, st.booleans())
def test_s3_endpoint_url_round_trip(bucket: str, key: str, virtual: bool) -> None:
    endpoint = "https://s3.eu-west-1.amazonaws.com"
    url = s3_object_url(endpoint, bucket, key, virtual_hosted=virtual)
    assert parse_blob_url(url) == BlobLocation("s3", bucket, key, None, endpoint)
    assert is_s3_url(url) and not is_azure_blob_url(url)


@settings(deadline=None)
@given(BUCKETS, VALID_NAMES)
def test_s3_custom_endpoint_needs_kind(bucket: str, key: str) -> None:
    url = s3_object_url("http://127.0.0.1:5000", bucket, key)
    location = parse_blob_url(url, kind="s3")
    assert location == BlobLocation("s3", bucket, key, None, "http://127.0.0.1:5000")
    assert location.to_url() == url


@settings(deadline=None, max_examples=50)
@given(BUCKETS, VALID_NAMES)
def test_boto3_presigned_urls_parse_to_the_key(bucket: str, key: str) -> None:
    styles: tuple[tuple[str | None, Literal["path", "virtual"]], ...] = (
        ("http://127.0.0.1:5000", "path"),
        (None, "virtual"),
    )
    for endpoint, style in styles:
        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="eu-west-1",
            aws_access_key_id="AKIDEXAMPLE",
            aws_secret_access_key="not-a-real-secret",
            config=Config(signature_version="s3v4", s3={"addressing_style": style}),
        )
        url = client.generate_presigned_url("get_object", {"Bucket": bucket, "Key": key}, 60)
        location = parse_blob_url(url)
        assert (location.kind, location.container, location.blob_name) == ("s3", bucket, key)
        assert is_s3_url(url)


@pytest.mark.parametrize(
    ("name", "encoded"),
    [
        ("a b", "a%20b"),
        ("a#b", "a%23b"),
        ("a?b", "a%3Fb"),
        ("100%", "100%25"),
        ("a+b", "a%2Bb"),
        ("é", "%C3%A9"),
        ("dir/sub/file.txt", "dir/sub/file.txt"),
    ],
)
def test_quote_blob_name(name: str, encoded: str) -> None:
    assert quote_blob_name(name) == encoded
    assert to_blob_uri("abc", name) == f"blob://abc/{encoded}"


# --- parsing forms ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://acct-secondary.blob.core.windows.net/c-1/x.png",
            BlobLocation(
                "azure", "c-1", "x.png", "acct", "https://acct-secondary.blob.core.windows.net"
            ),
        ),
        (
            "HTTPS://Acct.Blob.Core.Chinacloudapi.CN/abc/x",
            BlobLocation("azure", "abc", "x", "acct", "https://acct.blob.core.chinacloudapi.cn"),
        ),
        (
            "https://acct.privatelink.blob.core.windows.net/abc/x",
            BlobLocation(
                "azure", "abc", "x", "acct", "https://acct.privatelink.blob.core.windows.net"
            ),
        ),
        (
            "https://acct.z13.blob.storage.azure.net/abc/x",
            BlobLocation("azure", "abc", "x", "acct", "https://acct.z13.blob.storage.azure.net"),
        ),
        (
            "http://devhost:8888/myacct/abc/a/b",
            BlobLocation("azure", "abc", "a/b", "myacct", "http://devhost:8888/myacct"),
        ),
        (
            "https://my.bucket.s3.dualstack.us-east-1.amazonaws.com/k",
            BlobLocation(
                "s3", "my.bucket", "k", None, "https://s3.dualstack.us-east-1.amazonaws.com"
            ),
        ),
        (
            "https://s3-us-west-2.amazonaws.com/bkt/a/b",
            BlobLocation("s3", "bkt", "a/b", None, "https://s3-us-west-2.amazonaws.com"),
        ),
        (
            "https://bkt.s3.cn-north-1.amazonaws.com.cn/k",
            BlobLocation("s3", "bkt", "k", None, "https://s3.cn-north-1.amazonaws.com.cn"),
        ),
        ("blob://abc/raw name é+", BlobLocation("blob", "abc", "raw name é+")),
        ("s3://bkt/a%2Fb", BlobLocation("s3", "bkt", "a/b")),
    ],
)
def test_parse_forms(url: str, expected: BlobLocation) -> None:
    assert parse_blob_url(url) == expected


def test_query_is_stripped_and_location_is_hashable() -> None:
    plain = "https://acct.blob.core.windows.net/abc/dir/x.png"
    location = parse_blob_url(f"{plain}?sv=2024-01-01&sr=b&sp=r&{SECRET}")
    assert location == parse_blob_url(plain)
    assert SECRET not in repr(location)
    assert len({location, parse_blob_url(plain)}) == 1
    assert azure_blob_url(f"https://acct.blob.core.windows.net/?sv=1&{SECRET}", "abc", "x") == (
        "https://acct.blob.core.windows.net/abc/x"
    )


def test_kind_settles_custom_hosts_and_conflicts_raise() -> None:
    url = "http://127.0.0.1:5000/bkt/key/part"
    assert parse_blob_url(url).kind == "azure"
    assert parse_blob_url(url, kind="s3") == BlobLocation(
        "s3", "bkt", "key/part", None, "http://127.0.0.1:5000"
    )
    assert parse_blob_url("http://files.internal/acct/abc/x", kind="azure").account == "acct"
    with pytest.raises(InvalidBlobUrlError, match="is an azure URL, not an s3 URL"):
        parse_blob_url("https://acct.blob.core.windows.net/abc/x", kind="s3")
    with pytest.raises(InvalidBlobUrlError, match="not an azure URL"):
        parse_blob_url("s3://bkt/x", kind="azure")


@pytest.mark.parametrize(
    ("url", "azure", "s3"),
    [
        ("blob://abc/x", True, False),
        ("https://acct.blob.core.windows.net/abc/x", True, False),
        ("http://127.0.0.1:10000/devstoreaccount1/abc/x", True, False),
        ("http://cdn.example.com:8080/images/cat/1.jpg", False, False),
        ("http://cdn.example.com:8080/images/cat/1.jpg?sv=1&sig=x", True, False),
        ("http://localhost:5000/bkt/k/x?X-Amz-Signature=abc", False, True),
        ("s3://bkt/x", False, True),
        ("https://bkt.s3.amazonaws.com/x", False, True),
        ("https://example.com/a/b/c", False, False),
        ("https://files.example.com/acct/abc/x?sv=1&sig=x", True, False),
        ("not a url", False, False),
        ("", False, False),
        ("blob://abc/ends-with-dot.", False, False),
    ],
)
def test_url_predicates(url: str, azure: bool, s3: bool) -> None:
    assert is_azure_blob_url(url) is azure
    assert is_s3_url(url) is s3


# --- invalid URLs -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("", "non-empty URL"),
        ("ftp://abc/x", "not a blob URL"),
        ("https://example.com/a/b/c", "neither an Azure nor an S3"),
        ("blob://abc", "no blob"),
        ("blob://abc/", "no blob"),
        ("https://acct.blob.core.windows.net/abc", "no blob"),
        ("blob://ABC/x", "uppercase"),
        ("blob://abc/x?y", "percent-encode '?'"),
        ("blob://abc/x#y", "percent-encode '#'"),
        ("blob://abc/100%", "malformed percent-escape"),
        ("blob://abc/%zz", "malformed percent-escape"),
        ("blob://abc/%ff", "not UTF-8"),
        ("blob://abc/a%2F%2Fb", "empty path segment"),
        ("blob://abc/a%5Cb", "'\\'"),
        ("s3://Bad_Bucket/x", "invalid bucket name"),
        ("http://127.0.0.1:10000/Dev-Store/abc/x", "account name"),
        ("http://127.0.0.1:99999/devstoreaccount1/abc/x", "not a valid URL"),
        ("https://user:pw@acct.blob.core.windows.net/abc/x", "credentials"),
    ],
)
def test_invalid_urls_raise_typed_errors(url: str, fragment: str) -> None:
    with pytest.raises(InvalidBlobUrlError) as caught:
        parse_blob_url(url)
    error = caught.value
    assert fragment in str(error)
    assert isinstance(error, ValueError) and isinstance(error, StorageError)
    assert error.hint
    assert "pw" not in str(error)


@pytest.mark.parametrize(
    "url",
    [
        f"https://acct.blob.core.windows.net/UPPER/x?sv=1&{SECRET}",
        f"https://acct.blob.core.windows.net/abc/bad.?{SECRET}",
        f"https://example.com/a/b/c?{SECRET}",
        f"ftp://acct/abc?{SECRET}",
        f"http://127.0.0.1:99999/a/b/c?{SECRET}",
    ],
)
def test_errors_never_echo_the_query(url: str) -> None:
    with pytest.raises(InvalidBlobUrlError) as caught:
        parse_blob_url(url)
    assert "TOPSECRET" not in str(caught.value)
    assert "TOPSECRET" not in repr(caught.value.args)


def test_builders_validate_names() -> None:
    with pytest.raises(InvalidBlobNameError, match=re.escape("ends with '.'")):
        to_blob_uri("abc", "x.")
    with pytest.raises(InvalidBlobNameError, match="invalid container name"):
        azure_blob_url("https://acct.blob.core.windows.net", "A", "x")
    with pytest.raises(InvalidBlobNameError, match="invalid bucket name"):
        to_s3_uri("192.168.1.1", "x")
    with pytest.raises(InvalidBlobUrlError, match="not an http"):
        azure_blob_url("acct.blob.core.windows.net", "abc", "x")
    with pytest.raises(InvalidBlobUrlError, match="needs an endpoint"):
        BlobLocation("azure", "abc", "x").to_url()
