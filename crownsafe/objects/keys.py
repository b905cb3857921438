"""How S3 names and metadata become Azure names and metadata (pure functions).

Metadata keys. S3 accepts any header token as a metadata key (and lowercases it); Azure
requires C# identifiers and answers 400 InvalidMetadata otherwise. The rule, applied to
each key that is not already valid (valid keys are kept as they are):

1. every character outside [A-Za-z0-9_] becomes '_'   ("content-lang" -> "content_lang",
   "x.y" -> "x_y", "größe" -> "gr__e");
2. a key that then starts with a digit (or is empty) gets the prefix '_'
   ("2nd-pass" -> "_2nd_pass", "" -> "_").

Keys are case-insensitive on both services, so if two keys of one object end up equal
ignoring case ("a-b" and "a_b") the object is NOT copied: `MetadataKeyCollisionError`
names both (losing one value silently would be worse). Every renamed key is recorded
(new -> original) in the progress table.

Metadata values must be printable ASCII without surrounding whitespace for both
backends (crownsafe.storage.naming.validate_metadata); a value that is not is stored
percent-encoded (RFC 3986, UTF-8) and its key is recorded in `encoded_values`.

Blob names. A key that is a valid blob name is used unchanged. Any other key is mapped
with `sanitize_blob_name` plus '~' and the first 8 hex digits of the key's sha256, so two
invalid keys that sanitize alike still get distinct, deterministic names.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

from crownsafe.errors import InvalidMetadataError
from crownsafe.storage.naming import is_valid_blob_name, sanitize_blob_name, validate_metadata

__all__ = [
    "MappedMetadata",
    "MetadataKeyCollisionError",
    "azure_metadata_key",
    "map_metadata",
    "target_blob_name",
]

_KEY_OK = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_KEY_BAD_CHAR = re.compile(r"[^A-Za-z0-9_]")
_VALUE_OK = re.compile(r"^(?:[!-~](?:[ -~]*[!-~])?)?$")


class MetadataKeyCollisionError(InvalidMetadataError):
    """Two S3 metadata keys of one object map to the same Azure key (ignoring case)."""

    default_hint = "rename one of the keys on the S3 object, then re-run the migration"


@dataclass(frozen=True)
class MappedMetadata:
    """Metadata ready for Azure, and what had to change to get there."""

    metadata: dict[str, str]
    renamed_keys: dict[str, str] = field(default_factory=dict)
    encoded_values: tuple[str, ...] = ()

    def ledger_record(self) -> dict[str, object] | None:
        """What the progress table keeps, or None when nothing changed."""
        if not self.renamed_keys and not self.encoded_values:
            return None
        return {"keys": dict(self.renamed_keys), "encoded_values": list(self.encoded_values)}


def azure_metadata_key(key: str) -> str:
    """Apply the documented key rule to one key (valid keys come back unchanged)."""
    if _KEY_OK.match(key):
        return key
    mapped = _KEY_BAD_CHAR.sub("_", key)
    if not mapped or mapped[0].isdigit():
        mapped = "_" + mapped
    return mapped


def map_metadata(metadata: Mapping[str, str], *, blob_name: str | None = None) -> MappedMetadata:
    """Map one object's S3 metadata to Azure metadata; raise on a key collision."""
    result: dict[str, str] = {}
    renamed: dict[str, str] = {}
    encoded: list[str] = []
    originals: dict[str, str] = {}
    for key in sorted(metadata):
        new_key = azure_metadata_key(key)
        folded = new_key.lower()
        if folded in originals:
            raise MetadataKeyCollisionError(
                f"metadata keys {originals[folded]!r} and {key!r} both map to {new_key!r} "
                "on Azure (keys are case-insensitive there)",
                backend="azure",
                operation="migrate_object",
                blob_name=blob_name,
            )
        originals[folded] = key
        value = metadata[key]
        if not _VALUE_OK.match(value):
            value = quote(value, safe="")
            encoded.append(new_key)
        if new_key != key:
            renamed[new_key] = key
        result[new_key] = value
    validate_metadata(result)
    return MappedMetadata(result, renamed, tuple(encoded))


def target_blob_name(key: str) -> str:
    """The Azure blob name for an S3 key (unchanged when valid; see the module doc)."""
    if is_valid_blob_name(key):
        return key
    suffix = "~" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    base = sanitize_blob_name(key)
    while len((base + suffix).encode("utf-8")) > 1024:
        base = base[:-1]
    return sanitize_blob_name(base.rstrip("./") + suffix)
