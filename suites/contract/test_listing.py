"""Listing: prefixes, order, max_results, pagination across pages, exactly 100 blobs."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor

import pytest

from crownsafe.storage.base import StorageClient

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
