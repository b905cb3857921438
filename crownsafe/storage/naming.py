"""Naming rules for blobs, containers, buckets and metadata, checked before any I/O.

One blob name must work on both backends, so `validate_blob_name` applies the stricter of
Azure's and S3's rules:

- length 1..1,024 *UTF-8 bytes* (Azure allows 1,024 characters, S3 1,024 bytes);
- at most 254 path segments (Azure), no empty segment (no leading '/', no '//': the two
  services and their SDKs treat those differently);
- no '.' or '..' segment (path traversal: HTTP stacks and the SDKs collapse them);
- no segment ending in '.' (Azure), hence no name ending in '.' or '/';
- no '\\' anywhere (Azure turns it into '/', so the name would not round-trip);
- no control (Cc), surrogate (Cs) or private-use (Co) characters and no Unicode
  noncharacters (U+FFFE, U+FDD0...): Azure rejects them and S3 cannot list them in XML.

Metadata follows one rule too: keys are C# identifiers (Azure's rule; S3 would accept
more), unique case-insensitively (S3 lower-cases keys), values printable ASCII without
leading/trailing whitespace (Azure fails such values with a signature error), and the
total of keys plus values at most 2 KiB (S3's user-metadata limit; Azure allows 8 KiB).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from crownsafe.errors import InvalidBlobNameError, InvalidMetadataError

__all__ = [
    "BLOB_NAME_MAX_BYTES",
    "BLOB_NAME_MAX_SEGMENTS",
    "METADATA_MAX_BYTES",
    "is_valid_blob_name",
    "sanitize_blob_name",
    "validate_blob_name",
    "validate_bucket_name",
    "validate_container_name",
    "validate_metadata",
    "validate_s3_key",
]

BLOB_NAME_MAX_BYTES = 1024
BLOB_NAME_MAX_SEGMENTS = 254
METADATA_MAX_BYTES = 2048

_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cs", "Co"})
_CONTAINER_RE = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9]))*$")
_AZURE_SPECIAL_CONTAINERS = frozenset({"$root", "$web", "$logs"})
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")
_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
_METADATA_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NAME_HINT = "rename it, or call crownsafe.storage.naming.sanitize_blob_name() to map it"


def _shown(name: str) -> str:
    """The name as it goes into an error: long names are shortened."""
    return name if len(name) <= 200 else f"{name[:120]}...{name[-40:]} ({len(name)} chars)"


def _bad_name(name: str, reason: str, hint: str = _NAME_HINT) -> InvalidBlobNameError:
    return InvalidBlobNameError(f"invalid blob name: {reason}", blob_name=_shown(name), hint=hint)


def _is_forbidden_char(char: str) -> bool:
    code = ord(char)
    if unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
        return True
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


_CATEGORY_NAMES = {"Cc": "control character", "Cs": "surrogate", "Co": "private-use character"}


def _describe(char: str) -> str:
    kind = _CATEGORY_NAMES.get(unicodedata.category(char), "non-character")
    return f"U+{ord(char):04X} ({unicodedata.name(char, kind)})"


def validate_blob_name(name: str) -> str:
    """Return `name` if it is a valid blob name on both backends, else raise.

    Raises `InvalidBlobNameError` naming the broken rule and the character position.
    """
    if not isinstance(name, str):
        raise InvalidBlobNameError(
            f"invalid blob name: expected str, got {type(name).__name__}",
            hint="pass the blob name as a str",
        )
    if not name:
        raise _bad_name(name, "it is empty", "use a name of 1 to 1,024 bytes")
    for position, char in enumerate(name):
        if char == "\\":
            raise _bad_name(
                name,
                f"'\\' at position {position}: Azure turns it into '/', so the name "
                "would not round-trip",
                "use '/' as the path separator",
            )
        if _is_forbidden_char(char):
            raise _bad_name(
                name,
                f"character {_describe(char)} at position {position} is not allowed (no "
                "control, surrogate, private-use or non-character code points)",
            )
    size = len(name.encode("utf-8"))
    if size > BLOB_NAME_MAX_BYTES:
        raise _bad_name(
            name,
            f"it is {size} bytes in UTF-8 ({len(name)} characters); a name must fit both "
            "services: S3 keys are limited to 1,024 UTF-8 bytes, Azure names to 1,024 "
            "characters",
            "shorten the name to at most 1,024 bytes of UTF-8 (a non-ASCII character "
            "takes 2 to 4 bytes)",
        )
    segments = name.split("/")
    if len(segments) > BLOB_NAME_MAX_SEGMENTS:
        raise _bad_name(
            name,
            f"it has {len(segments)} path segments; Azure allows {BLOB_NAME_MAX_SEGMENTS}",
            "use fewer '/' separators",
        )
    offset = 0
    for segment in segments:
        if not segment:
            raise _bad_name(
                name,
                f"empty path segment at position {offset} (a leading, trailing or doubled '/')",
                "remove the extra '/'",
            )
        if segment in (".", ".."):
            raise _bad_name(
                name,
                f"path segment {segment!r} at position {offset} is a relative segment "
                "('.' or '..'): path traversal segments are not allowed (HTTP stacks and "
                "the SDKs collapse them, so the name would not round-trip)",
                "remove the '.' and '..' segments (e.g. '../etc/passwd' -> 'etc/passwd')",
            )
        if segment.endswith("."):
            raise _bad_name(
                name,
                f"path segment {segment!r} at position {offset} ends with '.'; Azure "
                "rejects names and segments ending in '.'",
                "drop or replace the trailing '.'",
            )
        offset += len(segment) + 1
    return name


def validate_s3_key(name: str) -> str:
    """Return `name` if S3 itself accepts it as a key (1 to 1,024 bytes of UTF-8), else raise.

    Looser than `validate_blob_name`: the S3 client uses it to read, inspect and delete
    objects that already exist (keys written before the migration may end in '/' or '.'),
    while everything it writes must pass the common rule.
    """
    if not isinstance(name, str) or not name:
        raise _bad_name(str(name), "it is empty or not a str", "use a key of 1 to 1,024 bytes")
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        raise _bad_name(name, "it is not encodable as UTF-8 (a lone surrogate)") from None
    if size > BLOB_NAME_MAX_BYTES:
        raise _bad_name(
            name, f"it is {size} bytes in UTF-8; S3's limit is {BLOB_NAME_MAX_BYTES}", "shorten it"
        )
    return name


def is_valid_blob_name(name: str) -> bool:
    """True if `validate_blob_name` would accept `name`."""
    try:
        validate_blob_name(name)
    except InvalidBlobNameError:
        return False
    return True


def sanitize_blob_name(name: str, replacement: str = "_") -> str:
    """Map any string to a valid blob name (for callers who prefer replacement to rejection).

    The mapping, applied in order:

    1. '\\' becomes '/'; each forbidden character (control, surrogate, private-use,
       non-character) becomes `replacement`.
    2. Empty segments are dropped (leading, trailing and doubled '/' collapse).
    3. Each trailing '.' of a segment becomes `replacement` ("a./.." -> "a_/__").
    4. Segments past the 254th are joined to it with `replacement` instead of '/'.
    5. The result is cut to 1,024 UTF-8 bytes at a character boundary, then trailing
       '.' and '/' are dropped. An empty result becomes `replacement`.

    A name that is already valid comes back unchanged. `replacement` must be a non-empty
    single valid segment (no '/', no trailing '.'), else `ValueError`.
    """
    if (
        not isinstance(replacement, str)
        or not replacement
        or "/" in replacement
        or not is_valid_blob_name(replacement)
    ):
        raise ValueError(
            f"replacement {replacement!r} is not usable: it must be a non-empty valid blob "
            "name segment without '/' or a trailing '.', e.g. '_'"
        )
    mapped = "".join(
        "/" if char == "\\" else replacement if _is_forbidden_char(char) else char for char in name
    )
    segments = [segment for segment in mapped.split("/") if segment]
    fixed = []
    for segment in segments:
        stem = segment.rstrip(".")
        fixed.append(stem + replacement * (len(segment) - len(stem)))
    if len(fixed) > BLOB_NAME_MAX_SEGMENTS:
        keep = BLOB_NAME_MAX_SEGMENTS - 1
        fixed = [*fixed[:keep], replacement.join(fixed[keep:])]
    result = "/".join(fixed)
    encoded = result.encode("utf-8")
    if len(encoded) > BLOB_NAME_MAX_BYTES:
        result = encoded[:BLOB_NAME_MAX_BYTES].decode("utf-8", errors="ignore").rstrip("./")
    return result or replacement


def validate_container_name(name: str) -> str:
    """Return `name` if it is a valid Azure container name, else raise InvalidBlobNameError.

    3-63 characters, lowercase letters, digits and single hyphens, starting and ending
    with a letter or digit. Azure's special containers `$root`, `$web`, `$logs` pass.
    """
    if name in _AZURE_SPECIAL_CONTAINERS:
        return name
    problem = _dns_label_problem(name, "container")
    if problem is None and not _CONTAINER_RE.match(name):
        problem = (
            "only lowercase letters, digits and single hyphens are allowed, starting and "
            "ending with a letter or digit"
        )
    if problem:
        raise InvalidBlobNameError(
            f"invalid container name {name!r}: {problem}",
            hint="use e.g. 'crownsafe-images' (3-63 chars of a-z, 0-9 and '-')",
        )
    return name


def validate_bucket_name(name: str) -> str:
    """Return `name` if it is a valid S3 general-purpose bucket name, else raise.

    3-63 characters of lowercase letters, digits, '.' and '-', starting and ending with
    a letter or digit; no '..'; not shaped like an IPv4 address; none of S3's reserved
    prefixes (xn--, sthree-, amzn-s3-demo-) or suffixes (-s3alias, --ol-s3, .mrap,
    --x-s3, --table-s3).
    """
    problem = _dns_label_problem(name, "bucket")
    if problem is None:
        if not _BUCKET_RE.match(name):
            problem = (
                "only lowercase letters, digits, '.' and '-' are allowed, starting and "
                "ending with a letter or digit"
            )
        elif ".." in name:
            problem = "it contains '..'"
        elif _looks_like_ipv4(name):
            problem = "it is formatted like an IP address"
        elif name.startswith(_BUCKET_PREFIXES):
            problem = f"it starts with a reserved prefix ({', '.join(_BUCKET_PREFIXES)})"
        elif name.endswith(_BUCKET_SUFFIXES):
            problem = f"it ends with a reserved suffix ({', '.join(_BUCKET_SUFFIXES)})"
    if problem:
        raise InvalidBlobNameError(
            f"invalid bucket name {name!r}: {problem}",
            hint="use e.g. 'crownsafe-images' (3-63 chars of a-z, 0-9, '-' and '.')",
        )
    return name


def _dns_label_problem(name: object, what: str) -> str | None:
    if not isinstance(name, str):
        return f"expected str, got {type(name).__name__}"
    if not 3 <= len(name) <= 63:
        return f"a {what} name must be 3 to 63 characters long, this one has {len(name)}"
    if name != name.lower():
        return "uppercase letters are not allowed"
    return None


def _looks_like_ipv4(name: str) -> bool:
    return bool(re.fullmatch(r"\d+\.\d+\.\d+\.\d+", name))


def validate_metadata(metadata: Mapping[str, str] | None) -> dict[str, str]:
    """Return `metadata` as a plain dict if both backends accept it, else raise.

    Keys: C# identifiers (`^[A-Za-z_][A-Za-z0-9_]*$`), unique ignoring case. Values:
    printable ASCII (0x20-0x7E) without leading or trailing whitespace; empty is allowed.
    Total UTF-8 size of keys and values at most 2 KiB. `None` gives `{}`.
    """
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise InvalidMetadataError(
            f"metadata must be a mapping of str to str, got {type(metadata).__name__}",
            hint="pass a dict such as {'owner': 'alice'}",
        )
    result: dict[str, str] = {}
    seen: dict[str, str] = {}
    total = 0
    for key, value in metadata.items():
        if not isinstance(key, str) or not _METADATA_KEY_RE.match(key):
            raise InvalidMetadataError(
                f"metadata key {key!r} is not a C# identifier (^[A-Za-z_][A-Za-z0-9_]*$); "
                "Azure rejects it with 400 InvalidMetadata",
                hint="use letters, digits and '_', not starting with a digit (e.g. my_key)",
            )
        folded = key.lower()
        if folded in seen:
            raise InvalidMetadataError(
                f"metadata keys {seen[folded]!r} and {key!r} differ only in case; both "
                "services treat keys case-insensitively",
                hint="keep one of them",
            )
        seen[folded] = key
        if not isinstance(value, str):
            raise InvalidMetadataError(
                f"metadata value for {key!r} must be str, got {type(value).__name__}",
                hint="convert the value to a str",
            )
        for position, char in enumerate(value):
            if not " " <= char <= "~":
                raise InvalidMetadataError(
                    f"metadata value for {key!r} has {_describe(char)} at position "
                    f"{position}; only printable ASCII is allowed",
                    hint="encode the value (e.g. percent- or base64-encoding)",
                )
        if value != value.strip():
            raise InvalidMetadataError(
                f"metadata value for {key!r} has leading or trailing whitespace; Azure "
                "fails such requests with 403 AuthenticationFailed",
                hint="strip the value",
            )
        total += len(key) + len(value)
        result[key] = value
    if total > METADATA_MAX_BYTES:
        raise InvalidMetadataError(
            f"metadata is {total} bytes (keys plus values); the limit is "
            f"{METADATA_MAX_BYTES} (S3's user-metadata limit, stricter than Azure's 8 KiB)",
            hint="store large values in the blob itself or in the database",
        )
    return result
