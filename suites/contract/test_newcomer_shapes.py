"""One BlobInfo shape: list_blobs, iter_blobs and head_object agree on what they promise."""

from __future__ import annotations

from datetime import UTC

import pytest

from crownsafe.storage.base import BlobInfo, StorageClient

pytestmark = pytest.mark.contract

NAME = "shape/report.txt"
BODY = b"one shape for both backends"


def _describe(info: BlobInfo) -> str:
    return (
        f"name={info.name!r} size={info.size} etag={info.etag!r} "
        f"last_modified={info.last_modified!r} content_type={info.content_type!r} "
        f"metadata={dict(info.metadata)!r} content_md5={info.content_md5!r}"
    )


def test_list_and_head_agree_on_every_promised_field(
    storage_client: StorageClient, backend_name: str
) -> None:
    """name, size, etag (quoted) and last_modified (aware UTC, whole seconds) are the same
    from list_blobs, iter_blobs and head_object; list carries content type and metadata on
    Azure, and documents their absence (None / {}) on S3, where head_object has them."""
    storage_client.upload_file(NAME, BODY, content_type="text/plain", metadata={"owner": "alice"})
    [listed] = storage_client.list_blobs(prefix="shape/")
    [iterated] = list(storage_client.iter_blobs(prefix="shape/"))
    head = storage_client.head_object(NAME)
    shapes = f"\n list: {_describe(listed)}\n iter: {_describe(iterated)}\n head: {_describe(head)}"
    for info in (listed, iterated, head):
        assert (info.name, info.size) == (NAME, len(BODY)), shapes
        assert info.etag is not None and info.etag.startswith('"'), shapes
        assert info.etag.endswith('"') and len(info.etag) > 2, shapes
        assert info.last_modified is not None and info.last_modified.tzinfo is UTC, shapes
        assert info.last_modified.microsecond == 0, shapes
    assert listed.etag == iterated.etag == head.etag, shapes
    assert listed.last_modified == iterated.last_modified == head.last_modified, shapes
    assert head.content_type == "text/plain" and dict(head.metadata) == {"owner": "alice"}
    if backend_name == "azure":
        assert listed.content_type == head.content_type, shapes
        assert dict(listed.metadata) == dict(head.metadata), shapes
        assert listed.content_md5 == head.content_md5, shapes
    else:
        assert listed.content_type is None and dict(listed.metadata) == {}, shapes
