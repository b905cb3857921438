"""Visual search: which blob a URL names, and the user's images nearest by perceptual hash.

The URL forms are those the product has stored over time: `blob://container/name` (new
rows), Azure blob URLs (after the move), and S3 object URLs (rows written before it);
`crownsafe.storage.urls` parses all of them. The original backend's `_is_azure_blob_url` and its S3
counterpart are thin names over that module, kept so callers read like the original backend.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from crownsafe.storage.urls import InvalidBlobUrlError, is_azure_blob_url, is_s3_url, parse_blob_url

__all__ = [
    "SearchMatch",
    "_is_azure_blob_url",
    "_is_s3_url",
    "hamming_distance",
    "nearest_images",
    "resolve_image_url",
]


def _is_azure_blob_url(url: str) -> bool:
    """The original backend's name: `blob://` URIs and Azure blob URLs."""
    return is_azure_blob_url(url)


def _is_s3_url(url: str) -> bool:
    """The S3 counterpart: `s3://` URIs, amazonaws.com URLs and presigned S3 URLs."""
    return is_s3_url(url)


def resolve_image_url(url: str) -> str:
    """The blob name a supported image URL points at; `InvalidBlobUrlError` otherwise.

    The container is not compared: an S3-era row names the old bucket, and the object
    migration kept every name, so the name alone finds the object in today's container.
    """
    if _is_azure_blob_url(url):
        return parse_blob_url(url, kind="azure").blob_name
    if _is_s3_url(url):
        return parse_blob_url(url, kind="s3").blob_name
    raise InvalidBlobUrlError("not a blob://, Azure blob or S3 object URL")


def hamming_distance(a: str, b: str) -> int:
    """Bits that differ between two hex perceptual hashes of the same length."""
    if len(a) != len(b):
        raise ValueError("hashes of different lengths cannot be compared")
    return (int(a, 16) ^ int(b, 16)).bit_count()


@dataclass(frozen=True)
class SearchMatch:
    key: str
    phash: str
    distance: int


def nearest_images(
    query: str, candidates: Iterable[tuple[str, str]], *, limit: int, max_distance: int = 64
) -> list[SearchMatch]:
    """The `limit` candidates (key, phash) nearest to `query`, ties broken by key."""
    matches = [
        SearchMatch(key, phash, hamming_distance(query, phash))
        for key, phash in candidates
        if phash and len(phash) == len(query)
    ]
    matches = [m for m in matches if m.distance <= max_distance]
    matches.sort(key=lambda m: (m.distance, m.key))
    return matches[:limit]
