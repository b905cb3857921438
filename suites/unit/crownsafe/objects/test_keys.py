"""Pure rules of the object migration: metadata keys, blob names, S3 URL matching, streams."""

from __future__ import annotations

import hashlib
import io

import pytest

from crownsafe.objects.keys import (
    MetadataKeyCollisionError,
    azure_metadata_key,
    map_metadata,
    target_blob_name,
)
from crownsafe.objects.rows import S3UrlMatcher
from crownsafe.objects.streams import ChunkReader, digest_chunks
from crownsafe.storage.naming import is_valid_blob_name, validate_metadata


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("owner", "owner"),
        ("Owner_2", "Owner_2"),
        ("content-lang", "content_lang"),
        ("x.y", "x_y"),
        ("größe", "gr__e"),
        ("2nd-pass", "_2nd_pass"),
        ("", "_"),
    ],
)
def test_metadata_key_rule(key: str, expected: str) -> None:
    """Invalid characters become '_', a leading digit gets a '_' prefix, valid keys stay."""
    assert azure_metadata_key(key) == expected
    validate_metadata({expected: "v"})


def test_map_metadata_records_renames_and_encodes_values() -> None:
    """Renamed keys map back to the originals; non-ASCII values are percent-encoded."""
    mapped = map_metadata({"content-lang": "fr", "note": "crème", "plain": "ok"})
    assert mapped.metadata == {"content_lang": "fr", "note": "cr%C3%A8me", "plain": "ok"}
    assert mapped.ledger_record() == {
        "keys": {"content_lang": "content-lang"},
        "encoded_values": ["note"],
    }
    assert map_metadata({"plain": "ok"}).ledger_record() is None


@pytest.mark.parametrize("keys", [("a-b", "a_b"), ("a.b", "a-b"), ("Key", "key")])
def test_map_metadata_refuses_collisions(keys: tuple[str, str]) -> None:
    """Two keys that end up equal ignoring case stop the object instead of losing a value."""
    with pytest.raises(MetadataKeyCollisionError, match="both map to"):
        map_metadata(dict.fromkeys(keys, "v"), blob_name="x.bin")


def test_target_blob_name_keeps_valid_names_and_maps_others_deterministically() -> None:
    """Valid keys are kept; invalid ones get a sanitized, hash-suffixed, valid name."""
    assert target_blob_name("scans/ünï 1.jpg") == "scans/ünï 1.jpg"
    mapped = target_blob_name("dir/ends-with-dot.")
    assert is_valid_blob_name(mapped) and mapped == target_blob_name("dir/ends-with-dot.")
    assert mapped.startswith("dir/ends-with-dot_~")
    assert target_blob_name("a//b.") != target_blob_name("a/b.")
    long_name = target_blob_name("x" * 1100)
    assert is_valid_blob_name(long_name) and len(long_name.encode()) <= 1024


def test_s3_url_matcher_forms() -> None:
    """s3://, AWS virtual-hosted/path-style and endpoint path-style URLs name (bucket, key)."""
    matcher = S3UrlMatcher("crown-bucket", ["http://127.0.0.1:9000"])
    assert matcher.s3_key("s3://crown-bucket/a/%C3%BC%20b.jpg") == ("crown-bucket", "a/ü b.jpg")
    assert matcher.s3_key("https://crown-bucket.s3.amazonaws.com/a/b.jpg") == (
        "crown-bucket",
        "a/b.jpg",
    )
    presigned = "https://crown-bucket.s3.eu-west-1.amazonaws.com/k.png?X-Amz-Signature=abc"
    assert matcher.s3_key(presigned) == ("crown-bucket", "k.png")
    assert matcher.s3_key("http://127.0.0.1:9000/crown-bucket/k%2B1.png") == (
        "crown-bucket",
        "k+1.png",
    )
    assert matcher.s3_key("http://127.0.0.1:10000/devstoreaccount1/c/k.png") is None
    assert matcher.s3_key("https://cdn.example.org/k.png") is None


def test_chunk_reader_streams_and_hashes() -> None:
    """ChunkReader yields the chunks' bytes in any read sizes and hashes all of them."""
    chunks = [b"", b"abc", b"", b"defgh", b"i" * 10]
    reader = ChunkReader(iter(chunks))
    buffered = io.BufferedReader(reader, buffer_size=4)
    out = b"".join(iter(lambda: buffered.read(3), b""))
    assert out == b"".join(chunks)
    assert reader.digest.size == len(out)
    assert reader.digest.hexdigest() == hashlib.sha256(out).hexdigest()
    assert not reader.seekable()
    assert digest_chunks(iter(chunks)).hexdigest() == reader.digest.hexdigest()
