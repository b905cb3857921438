"""Naming rules: blob, container and bucket names and metadata, checked before any I/O."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crownsafe.errors import InvalidBlobNameError, InvalidMetadataError, StorageError
from crownsafe.storage.naming import (
    BLOB_NAME_MAX_BYTES,
    BLOB_NAME_MAX_SEGMENTS,
    METADATA_MAX_BYTES,
    is_valid_blob_name,
    sanitize_blob_name,
    validate_blob_name,
    validate_bucket_name,
    validate_container_name,
    validate_metadata,
    validate_s3_key,
)

URL_SPECIAL = " #?%+&=;:@$,!'()*[]~é中😀\u200b"


def _allowed(char: str) -> bool:
    return is_valid_blob_name(char) or char == "."


SEGMENT_CHARS = st.one_of(
    st.sampled_from(URL_SPECIAL),
    st.characters(exclude_categories=("Cc", "Cs", "Co"), exclude_characters="/\\").filter(_allowed),
)
SEGMENTS = st.text(SEGMENT_CHARS, min_size=1, max_size=16).filter(lambda s: not s.endswith("."))
VALID_NAMES = st.lists(SEGMENTS, min_size=1, max_size=6).map("/".join)
FORBIDDEN_CHARS = st.one_of(
    st.characters(categories=("Cc", "Cs", "Co")),
    st.sampled_from(["\\", "\ufffe", "\uffff", "\ufdd0", "\U0010fffe"]),
)
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=80)


# --- blob names -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "a",
        "photos/2024/scan 01.png",
        "with space.txt",
        "hash#tag?.txt",
        "percent%20literal+plus.txt",
        "中文/文件 名.txt",
        "emoji-😀.png",
        ".hidden",
        "a.b/c..d/e",
        "a" * 1024,
        "é" * 512,
        "/".join(["s"] * BLOB_NAME_MAX_SEGMENTS),
    ],
)
def test_valid_blob_names_pass_unchanged(name: str) -> None:
    assert validate_blob_name(name) == name
    assert is_valid_blob_name(name)


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("", "empty"),
        ("a" * 1025, "1025 bytes"),
        ("é" * 513, "1026 bytes"),
        ("ends.", "ends with '.'"),
        ("dir./file", "'dir.' at position 0 ends with '.'"),
        ("a/./b", "'.' at position 2"),
        ("a/../b", "'..' at position 2"),
        ("ends/", "empty path segment at position 5"),
        ("/lead", "empty path segment at position 0"),
        ("a//b", "empty path segment at position 2"),
        ("back\\slash", "'\\' at position 4"),
        ("nul\x00", "U+0000 (control character) at position 3"),
        ("tab\tx", "U+0009"),
        ("c1\x85x", "U+0085"),
        ("del\x7f", "U+007F"),
        ("pua\ue000", "U+E000 (private-use character)"),
        ("non\ufffe", "U+FFFE (non-character)"),
        ("/".join(["s"] * (BLOB_NAME_MAX_SEGMENTS + 1)), "255 path segments"),
    ],
)
def test_invalid_blob_names_say_which_rule(name: str, fragment: str) -> None:
    with pytest.raises(InvalidBlobNameError) as caught:
        validate_blob_name(name)
    error = caught.value
    assert fragment in str(error)
    assert error.hint and str(error).count("Fix:") == 1
    assert error.backend is None and error.operation is None and error.status is None
    assert isinstance(error, ValueError) and isinstance(error, StorageError)
    assert not is_valid_blob_name(name)


def test_non_string_name_is_a_typed_error() -> None:
    with pytest.raises(InvalidBlobNameError, match="expected str, got bytes"):
        validate_blob_name(b"abc")  # type: ignore[arg-type]


def test_long_name_is_shortened_in_the_error() -> None:
    with pytest.raises(InvalidBlobNameError) as caught:
        validate_blob_name("x" * 5000)
    assert "(5000 chars)" in str(caught.value)
    assert len(str(caught.value)) < 600


@settings(deadline=None)
@given(VALID_NAMES)
def test_generated_valid_names_pass(name: str) -> None:
    if len(name.encode("utf-8")) <= BLOB_NAME_MAX_BYTES:
        assert validate_blob_name(name) == name


@settings(deadline=None)
@given(VALID_NAMES, FORBIDDEN_CHARS, st.integers(min_value=0))
def test_any_forbidden_character_is_rejected(name: str, bad: str, where: int) -> None:
    position = where % (len(name) + 1)
    with pytest.raises(InvalidBlobNameError, match=rf"at position {position}\b"):
        validate_blob_name(name[:position] + bad + name[position:])


@settings(deadline=None)
@given(VALID_NAMES, st.sampled_from([".", "/", "..", "./", "/."]))
def test_names_ending_in_dot_or_slash_are_rejected(name: str, tail: str) -> None:
    with pytest.raises(InvalidBlobNameError):
        validate_blob_name(name + tail)


@settings(deadline=None)
@given(st.text(SEGMENT_CHARS, min_size=1, max_size=4))
def test_names_over_1024_utf8_bytes_are_rejected(unit: str) -> None:
    name = (unit * (BLOB_NAME_MAX_BYTES // len(unit.encode("utf-8")) + 1)) + "z"
    with pytest.raises(InvalidBlobNameError, match="bytes in UTF-8"):
        validate_blob_name(name)


# --- sanitize ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", "_"),
        ("/", "_"),
        ("ok/name.txt", "ok/name.txt"),
        ("C:\\Users\\me\\scan.png", "C:/Users/me/scan.png"),
        ("//a///b/", "a/b"),
        ("a./..", "a_/__"),
        ("tab\there\x00", "tab_here_"),
        ("pua\ue000x", "pua_x"),
    ],
)
def test_sanitize_mapping(raw: str, expected: str) -> None:
    assert sanitize_blob_name(raw) == expected


def test_sanitize_custom_replacement() -> None:
    assert sanitize_blob_name("a\x00b.", replacement="-x-") == "a-x-b-x-"


def test_sanitize_joins_segments_past_the_limit() -> None:
    result = sanitize_blob_name("/".join("abc"[i % 3] for i in range(300)))
    segments = result.split("/")
    assert len(segments) == BLOB_NAME_MAX_SEGMENTS
    assert segments[-1] == "_".join("abc"[i % 3] for i in range(BLOB_NAME_MAX_SEGMENTS - 1, 300))


def test_sanitize_truncates_at_a_character_boundary() -> None:
    result = sanitize_blob_name("a" + "é" * 600)
    assert len(result.encode("utf-8")) == BLOB_NAME_MAX_BYTES - 1
    assert validate_blob_name(result) == result


def test_sanitize_drops_dots_and_slashes_exposed_by_truncation() -> None:
    result = sanitize_blob_name("x" * 1020 + "/..." + "y" * 10)
    assert result == "x" * 1020


@pytest.mark.parametrize("replacement", ["", "/", "a/b", ".", "x.", "\x00", "\\"])
def test_sanitize_rejects_unusable_replacement(replacement: str) -> None:
    with pytest.raises(ValueError, match="replacement"):
        sanitize_blob_name("a\x00", replacement=replacement)


@settings(deadline=None, max_examples=300)
@given(ANY_TEXT)
def test_sanitize_output_is_always_valid(raw: str) -> None:
    result = sanitize_blob_name(raw)
    assert validate_blob_name(result) == result
    assert sanitize_blob_name(result) == result


@settings(deadline=None)
@given(st.text(st.characters(exclude_categories=()), min_size=900, max_size=1400))
def test_sanitize_long_output_is_always_valid(raw: str) -> None:
    assert is_valid_blob_name(sanitize_blob_name(raw, replacement="ü"))


@settings(deadline=None)
@given(VALID_NAMES)
def test_sanitize_keeps_valid_names(name: str) -> None:
    if is_valid_blob_name(name):
        assert sanitize_blob_name(name) == name


# --- containers and buckets -------------------------------------------------------------


@pytest.mark.parametrize("name", ["abc", "crownsafe-images", "a1-b2-c3", "0ab", "a" * 63, "$root"])
def test_valid_container_names(name: str) -> None:
    assert validate_container_name(name) == name


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("ab", "3 to 63"),
        ("a" * 64, "3 to 63"),
        ("Images", "uppercase"),
        ("-abc", "starting and ending"),
        ("abc-", "starting and ending"),
        ("ab--c", "single hyphens"),
        ("ab_c", "single hyphens"),
        ("ab.c", "single hyphens"),
    ],
)
def test_invalid_container_names(name: str, fragment: str) -> None:
    with pytest.raises(InvalidBlobNameError, match=re.escape(fragment)) as caught:
        validate_container_name(name)
    assert repr(name) in str(caught.value) and caught.value.hint


@settings(deadline=None)
@given(st.from_regex(r"\A[a-z0-9](?:-?[a-z0-9]){2,31}\Z"))
def test_generated_container_names_pass(name: str) -> None:
    assert validate_container_name(name) == name


@settings(deadline=None)
@given(st.from_regex(r"\A[a-z0-9](?:[.-]?[a-z0-9]){2,31}\Z"))
def test_generated_bucket_names(name: str) -> None:
    reserved = name.startswith(("xn--", "sthree-", "amzn-s3-demo-")) or name.endswith(
        ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
    )
    ip_like = all(part.isdigit() for part in name.split(".")) and name.count(".") == 3
    if reserved or ip_like:
        with pytest.raises(InvalidBlobNameError):
            validate_bucket_name(name)
    else:
        assert validate_bucket_name(name) == name


@pytest.mark.parametrize("name", ["abc", "my.bucket.name", "a-b.c-d", "b" * 63, "xn-ok"])
def test_valid_bucket_names(name: str) -> None:
    assert validate_bucket_name(name) == name


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("ab", "3 to 63"),
        ("My-Bucket", "uppercase"),
        ("bucket_", "only lowercase"),
        (".bucket", "only lowercase"),
        ("a..b", "'..'"),
        ("192.168.5.4", "IP address"),
        ("xn--bucket", "reserved prefix"),
        ("sthree-bucket", "reserved prefix"),
        ("amzn-s3-demo-bucket", "reserved prefix"),
        ("bucket-s3alias", "reserved suffix"),
        ("bucket--ol-s3", "reserved suffix"),
        ("bucket.mrap", "reserved suffix"),
        ("bucket--x-s3", "reserved suffix"),
        ("bucket--table-s3", "reserved suffix"),
    ],
)
def test_invalid_bucket_names(name: str, fragment: str) -> None:
    with pytest.raises(InvalidBlobNameError, match=re.escape(fragment)):
        validate_bucket_name(name)


# --- metadata ---------------------------------------------------------------------------


def test_metadata_none_and_valid() -> None:
    assert validate_metadata(None) == {}
    md = {"owner": "alice", "_Scan2": "v 1.0; ok=yes", "empty": ""}
    result = validate_metadata(md)
    assert result == md and result is not md


@pytest.mark.parametrize(
    ("metadata", "fragment"),
    [
        ({"my-key": "v"}, "not a C# identifier"),
        ({"2bad": "v"}, "not a C# identifier"),
        ({"": "v"}, "not a C# identifier"),
        ({"k\u00e9": "v"}, "not a C# identifier"),
        ({"Owner": "a", "owner": "b"}, "differ only in case"),
        ({"k": "caf\u00e9"}, "U+00E9"),
        ({"k": "line\nbreak"}, "U+000A"),
        ({"k": " padded"}, "leading or trailing whitespace"),
        ({"k": "padded "}, "leading or trailing whitespace"),
        ({"k": 5}, "must be str"),
        ({"k": "x" * METADATA_MAX_BYTES}, "the limit is 2048"),
    ],
)
def test_invalid_metadata(metadata: dict[str, object], fragment: str) -> None:
    with pytest.raises(InvalidMetadataError, match=re.escape(fragment)) as caught:
        validate_metadata(metadata)  # type: ignore[arg-type]
    assert caught.value.hint and isinstance(caught.value, ValueError)


def test_metadata_size_limit_is_inclusive() -> None:
    assert validate_metadata({"k": "x" * (METADATA_MAX_BYTES - 1)})
    with pytest.raises(InvalidMetadataError):
        validate_metadata({"k": "x" * (METADATA_MAX_BYTES - 1), "j": ""})


def test_metadata_must_be_a_mapping() -> None:
    with pytest.raises(InvalidMetadataError, match="mapping"):
        validate_metadata([("k", "v")])  # type: ignore[arg-type]


@settings(deadline=None)
@given(
    st.dictionaries(
        st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_]{0,10}\Z"),
        st.from_regex(r"\A(?:[!-~](?:[ -~]{0,20}[!-~])?)?\Z"),
        max_size=5,
    )
)
def test_generated_metadata(metadata: dict[str, str]) -> None:
    keys = [key.lower() for key in metadata]
    if len(set(keys)) == len(keys):
        assert validate_metadata(metadata) == metadata
    else:
        with pytest.raises(InvalidMetadataError, match="differ only in case"):
            validate_metadata(metadata)


@pytest.mark.parametrize("key", ["legacy/dir/", "report.", "a\\b", "//x", "a\x7fb"])
def test_s3_key_rule_accepts_legacy_keys_the_common_rule_rejects(key: str) -> None:
    assert validate_s3_key(key) == key
    assert not is_valid_blob_name(key)


@pytest.mark.parametrize("key", ["x" * 1024, "é" * 512])
def test_s3_key_rule_allows_exactly_1024_bytes(key: str) -> None:
    assert validate_s3_key(key) == key


@pytest.mark.parametrize("key", ["", "x" * 1025, "é" * 513, "\ud800"])
def test_s3_key_rule_rejects_what_s3_rejects(key: str) -> None:
    with pytest.raises(InvalidBlobNameError):
        validate_s3_key(key)
