"""Content type and metadata: preserved, defaulted, replaced, and validated before I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crownsafe.errors import InvalidMetadataError
from crownsafe.storage.base import StorageClient

from .helpers import check_each

pytestmark = pytest.mark.contract

DEFAULT_CONTENT_TYPE = "application/octet-stream"


def test_content_type_preserved(storage_client: StorageClient) -> None:
    """The content type given at upload is what head_object reports."""
    storage_client.upload_file("props/report.pdf", b"%PDF-1.7", content_type="application/pdf")
    assert storage_client.head_object("props/report.pdf").content_type == "application/pdf"


def test_content_type_with_parameters_preserved(storage_client: StorageClient) -> None:
    """A content type with parameters (charset) is stored verbatim."""
    content_type = "text/plain; charset=utf-8"
    storage_client.upload_file("props/note.txt", "héllo".encode(), content_type=content_type)
    assert storage_client.head_object("props/note.txt").content_type == content_type


def test_default_content_type(storage_client: StorageClient) -> None:
    """Without a content type both backends store application/octet-stream."""
    storage_client.upload_file("props/untyped", b"\x01\x02")
    assert storage_client.head_object("props/untyped").content_type == DEFAULT_CONTENT_TYPE


def test_metadata_preserved(storage_client: StorageClient) -> None:
    """Metadata keys and values come back exactly as uploaded (keys as given)."""
    metadata = {"scan_id": "a1b2-c3", "owner": "crown safe", "_Version": "2"}
    storage_client.upload_file("props/meta.bin", b"m", metadata=metadata)
    got = dict(storage_client.head_object("props/meta.bin").metadata)
    assert {k.lower(): v for k, v in got.items()} == {k.lower(): v for k, v in metadata.items()}


def test_metadata_defaults_to_empty(storage_client: StorageClient) -> None:
    """A blob uploaded without metadata reports an empty mapping, not None."""
    storage_client.upload_file("props/no-meta.bin", b"n")
    assert dict(storage_client.head_object("props/no-meta.bin").metadata) == {}


def test_head_reports_size_etag_and_last_modified(storage_client: StorageClient) -> None:
    """head_object reports name, size, a non-empty etag and a recent aware last_modified."""
    storage_client.upload_file("props/head.bin", b"12345")
    info = storage_client.head_object("props/head.bin")
    assert info.name == "props/head.bin"
    assert info.size == 5
    assert info.etag
    assert info.last_modified is not None and info.last_modified.tzinfo is not None
    assert abs(datetime.now(UTC) - info.last_modified) < timedelta(minutes=10)


INVALID_METADATA = {
    "dash": {"my-key": "v"},
    "leading-digit": {"2bad": "v"},
    "empty-key": {"": "v"},
    "space-in-key": {"has space": "v"},
    "non-ascii-key": {"ünicode": "v"},
    "case-duplicate": {"Key": "1", "key": "2"},
    "non-ascii-value": {"ok": "välue"},
    "control-char-value": {"ok": "line\nbreak"},
    "padded-value": {"ok": " padded "},
    "over-2-kib": {f"k{i}": "v" * 100 for i in range(21)},
}


def test_invalid_metadata_rejected_before_network(unreachable_client: StorageClient) -> None:
    """Metadata breaking the one shared rule raises InvalidMetadataError before any I/O."""

    def check(metadata: dict[str, str]) -> None:
        with pytest.raises(InvalidMetadataError) as caught:
            unreachable_client.upload_file("props/bad-meta.bin", b"x", metadata=metadata)
        assert isinstance(caught.value, ValueError)
        assert caught.value.status is None, "no HTTP status: the request was never sent"
        assert caught.value.hint, "the error says how to fix it"

    check_each(INVALID_METADATA, check)


def test_same_metadata_rule_on_both_backends(
    storage_client: StorageClient, unreachable_client: StorageClient
) -> None:
    """A key S3 would accept ('my-key') is refused on S3 too; a C# identifier is accepted."""
    with pytest.raises(InvalidMetadataError):
        unreachable_client.upload_file("props/dash.bin", b"x", metadata={"my-key": "v"})
    storage_client.upload_file("props/ident.bin", b"x", metadata={"my_key": "v"})
    assert storage_client.head_object("props/ident.bin").metadata


def test_overwrite_replaces_metadata_and_content_type(storage_client: StorageClient) -> None:
    """Overwriting a blob replaces its metadata and content type, it does not merge them."""
    storage_client.upload_file(
        "props/replace.bin", b"1", content_type="image/png", metadata={"first": "1"}
    )
    storage_client.upload_file(
        "props/replace.bin", b"2", content_type="image/jpeg", metadata={"second": "2"}
    )
    info = storage_client.head_object("props/replace.bin")
    assert info.content_type == "image/jpeg"
    assert {k.lower() for k in info.metadata} == {"second"}


def test_listing_reports_size_and_content_type_where_listed(
    storage_client: StorageClient, backend: str
) -> None:
    """list_blobs reports each blob's size; the content type only where the service lists it."""
    # Documented difference: Azure's List Blobs returns Content-Type, S3's ListObjectsV2 does
    # not (head_object reads it there).
    storage_client.upload_file("props/listed.json", b"{}", content_type="application/json")
    (info,) = storage_client.list_blobs(prefix="props/")
    assert (info.name, info.size) == ("props/listed.json", 2)
    expected = "application/json" if backend == "azure" else None
    assert info.content_type == expected, f"[{backend}] listed content type"
