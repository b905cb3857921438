"""Blob names: unicode and URL-special characters round-trip; invalid names never leave."""

from __future__ import annotations

import io
from collections.abc import Callable
from urllib.parse import unquote, urlsplit

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crownsafe.errors import InvalidBlobNameError
from crownsafe.storage.base import StorageClient
from crownsafe.storage.naming import is_valid_blob_name

from .helpers import check_each

pytestmark = pytest.mark.contract

SPECIAL_NAMES = {
    "space": "with space.txt",
    "hash": "hash#tag.txt",
    "question": "question?mark.txt",
    "percent": "percent%20literal.txt",
    "plus": "plus+sign.txt",
    "emoji": "emoji-😀-🦁.png",
    "cjk": "中文/文件 名.txt",
    "mixed": "mixed/ #?%+&=;,@$!'()[]~ end.bin",
}

INVALID_NAMES = {
    "empty": "",
    "1025-chars": "a" * 1025,
    "1026-utf8-bytes": "é" * 513,
    "trailing-dot": "ends-with-dot.",
    "trailing-slash": "ends-with-slash/",
    "leading-slash": "/leading-slash",
    "double-slash": "double//slash",
    "dot-segment": "dir./file",
    "backslash": "back\\slash",
    "nul": "nul\x00char",
    "newline": "newline\nchar",
}

OPERATIONS: dict[str, Callable[[StorageClient, str], object]] = {
    "upload_file": lambda c, n: c.upload_file(n, b"x"),
    "upload_file(stream)": lambda c, n: c.upload_file(n, io.BytesIO(b"x")),
    "download_blob": lambda c, n: c.download_blob(n),
    "download_to": lambda c, n: c.download_to(n, io.BytesIO()),
    "iter_blob_chunks": lambda c, n: list(c.iter_blob_chunks(n)),
    "head_object": lambda c, n: c.head_object(n),
    "blob_exists": lambda c, n: c.blob_exists(n),
    "delete_blob": lambda c, n: c.delete_blob(n, missing_ok=True),
    "generate_sas_url": lambda c, n: c.generate_sas_url(n),
    "get_blob_url": lambda c, n: c.get_blob_url(n),
}


def _url_names(url: str) -> str:
    """The decoded path of a URL; fails if a special character leaked out unencoded."""
    parts = urlsplit(url)
    assert parts.fragment == "", f"'#' left unencoded in {url!r}"
    return unquote(parts.path)


def test_special_names_round_trip(storage_client: StorageClient) -> None:
    """Names with space, '#', '?', '%', '+', emoji and CJK upload and download byte-exact."""

    def check(name: str) -> None:
        data = name.encode("utf-8") + b"\x00\xff"
        storage_client.upload_file(name, data)
        assert storage_client.blob_exists(name)
        assert storage_client.download_blob(name) == data
        assert storage_client.head_object(name).name == name

    check_each(SPECIAL_NAMES, check)


def test_special_names_listed_verbatim(storage_client: StorageClient) -> None:
    """Listings return special-character names decoded, exactly as uploaded."""
    for name in SPECIAL_NAMES.values():
        storage_client.upload_file(name, b"l")
    listed = sorted(info.name for info in storage_client.list_blobs())
    assert listed == sorted(SPECIAL_NAMES.values())
    assert [i.name for i in storage_client.list_blobs(prefix="中文/")] == ["中文/文件 名.txt"]


def test_blob_url_percent_encodes_name(storage_client: StorageClient) -> None:
    """get_blob_url percent-encodes the name: no raw space/'#'/'?', and it decodes back."""
    container = storage_client.container_name

    def check(name: str) -> None:
        url = storage_client.get_blob_url(name)
        tail = url.split(f"/{container}/", 1)[1]
        assert not set(" #?") & set(tail), f"unencoded character in {url!r}"
        assert all(ord(char) < 128 for char in url), f"non-ASCII left unencoded in {url!r}"
        assert urlsplit(url).query == ""
        assert _url_names(url).endswith(f"/{container}/{name}")

    check_each(SPECIAL_NAMES, check)


def test_sas_url_fetches_special_name(storage_client: StorageClient) -> None:
    """A read SAS URL of a special-character name fetches the right bytes over plain HTTP."""

    def check(name: str) -> None:
        data = b"sas:" + name.encode("utf-8")
        storage_client.upload_file(name, data)
        url = storage_client.generate_sas_url(name, expiry_hours=1, permission="r")
        assert _url_names(url).endswith(f"/{name}")
        response = requests.get(url, timeout=30)
        assert response.status_code == 200, response.text[:300]
        assert response.content == data

    check_each(SPECIAL_NAMES, check)


def test_invalid_names_rejected_before_network(
    unreachable_client: StorageClient, backend: str
) -> None:
    """Every operation rejects an invalid name with InvalidBlobNameError, never reaching I/O."""

    def check(name: str) -> None:
        for operation, call in OPERATIONS.items():
            with pytest.raises(InvalidBlobNameError) as caught:
                call(unreachable_client, name)
            error = caught.value
            assert error.status is None, f"[{backend}] {operation}: a request was sent"
            assert isinstance(error, ValueError)
            assert error.hint, f"[{backend}] {operation}: the error does not say how to fix it"

    check_each(INVALID_NAMES, check)


def test_invalid_name_creates_nothing(storage_client: StorageClient) -> None:
    """A rejected name leaves the container empty (the emulators would accept some)."""
    for name in ("trailing-dot.", "trailing/", "a" * 1025):
        with pytest.raises(InvalidBlobNameError):
            storage_client.upload_file(name, b"x")
    assert storage_client.list_blobs() == []


def test_names_are_case_sensitive(storage_client: StorageClient) -> None:
    """'Report.pdf' and 'report.pdf' are two different blobs."""
    storage_client.upload_file("Report.pdf", b"upper")
    storage_client.upload_file("report.pdf", b"lower")
    assert storage_client.download_blob("Report.pdf") == b"upper"
    assert storage_client.download_blob("report.pdf") == b"lower"


def test_longest_valid_name_round_trips(storage_client: StorageClient) -> None:
    """A name of exactly 1,024 UTF-8 bytes (the shared limit) round-trips and lists."""
    name = "n/" + "x" * 1022
    assert len(name.encode()) == 1024
    storage_client.upload_file(name, b"long")
    assert storage_client.download_blob(name) == b"long"
    assert [info.name for info in storage_client.list_blobs()] == [name]


NAME_CHARACTERS = st.characters(
    codec="utf-8",
    categories=("L", "M", "N", "P", "S", "Zs"),
    include_characters=" #?%+&=;,@$!'()[]~/",
)
VALID_NAMES = st.text(NAME_CHARACTERS, min_size=1, max_size=40).filter(is_valid_blob_name)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(name=VALID_NAMES, body=st.binary(max_size=64))
def test_valid_names_round_trip_property(
    storage_client: StorageClient, name: str, body: bytes
) -> None:
    """Any name the validator accepts round-trips byte-exact through upload, list, download."""
    data = name.encode("utf-8") + body
    storage_client.upload_file(name, data)
    assert storage_client.download_blob(name) == data
    listed = [info.name for info in storage_client.list_blobs(prefix=name)]
    assert name in listed, f"{name!r} not listed under its own prefix: {listed!r}"
    assert storage_client.delete_blob(name) is True
