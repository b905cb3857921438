"""Listing: prefixes, order, max_results, pagination across pages, exactly 100 blobs, and
the one BlobInfo shape list_blobs, iter_blobs and head_object agree on."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC

import pytest

from crownsafe.storage.base import BlobInfo, StorageClient

pytestmark = pytest.mark.contract


def _upload_many(client: StorageClient, names: list[str]) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda name: client.upload_file(name, name.encode()), names))


def test_list_empty_container(storage_client: StorageClient) -> None:
    """Listing a fresh, empty container returns an empty list."""
    assert storage_client.list_blobs() == []
    assert list(storage_client.iter_blobs()) == []


def test_list_returns_names_and_sizes(storage_client: StorageClient) -> None:
    """list_blobs returns one BlobInfo per blob with its exact name and size."""
    storage_client.upload_file("l/one", b"1")
    storage_client.upload_file("l/three", b"333")
    listed = {info.name: info.size for info in storage_client.list_blobs()}
    assert listed == {"l/one": 1, "l/three": 3}


def test_list_with_prefix(storage_client: StorageClient) -> None:
    """A prefix selects exactly the blobs whose names start with it (flat, recursive)."""
    names = ["photos/a.jpg", "photos/b/c.jpg", "photosx.jpg", "reports/a.pdf", "p.txt"]
    _upload_many(storage_client, names)
    got = [info.name for info in storage_client.list_blobs(prefix="photos/")]
    assert got == ["photos/a.jpg", "photos/b/c.jpg"]
    got_bare = [info.name for info in storage_client.list_blobs(prefix="photos")]
    assert got_bare == ["photos/a.jpg", "photos/b/c.jpg", "photosx.jpg"]


def test_list_with_unmatched_prefix(storage_client: StorageClient) -> None:
    """A prefix that matches nothing gives an empty list, not an error."""
    storage_client.upload_file("l/x", b"x")
    assert storage_client.list_blobs(prefix="nothing-here/") == []


def test_list_is_lexicographic(storage_client: StorageClient) -> None:
    """Blobs are listed in lexicographic name order on both backends."""
    names = ["b", "a/z", "a", "B", "a-", "a0", "aa"]
    _upload_many(storage_client, names)
    assert [info.name for info in storage_client.list_blobs()] == sorted(names)


def test_list_blobs_max_results(storage_client: StorageClient) -> None:
    """max_results caps the list at the first N blobs in order."""
    names = [f"m/{i:02d}" for i in range(15)]
    _upload_many(storage_client, names)
    assert [info.name for info in storage_client.list_blobs(max_results=7)] == names[:7]
    assert len(storage_client.list_blobs(max_results=100)) == 15


def test_iter_blobs_paginates_across_pages(storage_client: StorageClient) -> None:
    """iter_blobs with page_size=10 yields all 25 blobs once each, in order, over 3 pages."""
    names = [f"page/{i:03d}" for i in range(25)]
    _upload_many(storage_client, names)
    got = [info.name for info in storage_client.iter_blobs(prefix="page/", page_size=10)]
    assert got == names


def test_iter_blobs_fetches_page_by_page(storage_client: StorageClient) -> None:
    """iter_blobs follows continuation pages lazily: a blob added after page 1 still shows."""
    names = [f"lazy/{i:03d}" for i in range(25)]
    _upload_many(storage_client, names)
    blobs = storage_client.iter_blobs(prefix="lazy/", page_size=10)
    first_page = [info.name for info in itertools.islice(blobs, 10)]
    storage_client.upload_file("lazy/zzz-late", b"late")
    rest = [info.name for info in blobs]
    assert first_page == names[:10]
    assert rest == [*names[10:], "lazy/zzz-late"], (
        "the late blob is missing: page_size was not honoured or all pages were read at once"
    )


def test_list_exactly_100_blobs(storage_client: StorageClient) -> None:
    """Exactly 100 blobs are all listed, no more, no fewer, no duplicates."""
    names = [f"hundred/{i:03d}.bin" for i in range(100)]
    _upload_many(storage_client, names)
    listed = [info.name for info in storage_client.list_blobs()]
    assert len(listed) == 100
    assert listed == names
    assert sum(1 for _ in storage_client.iter_blobs(page_size=30)) == 100


def test_list_excludes_deleted(storage_client: StorageClient) -> None:
    """A deleted blob disappears from listings."""
    _upload_many(storage_client, ["d/keep", "d/drop"])
    storage_client.delete_blob("d/drop")
    assert [info.name for info in storage_client.list_blobs(prefix="d/")] == ["d/keep"]


# -- one BlobInfo shape: list_blobs, iter_blobs and head_object agree ------------------


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
