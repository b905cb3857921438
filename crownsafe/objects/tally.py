"""The options of an object migration and the tally of counts it ends with."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = ["MigrationOptions", "MigrationTally"]

MiB = 1024 * 1024


@dataclass(frozen=True)
class MigrationOptions:
    """What to migrate and how.

    Objects up to `buffer_limit` bytes are read into memory before their upload (one PUT
    with a known length: memory stays below workers x buffer_limit); larger ones are
    streamed from the source into the upload through `ChunkReader`.
    """

    source_bucket: str
    target_container: str
    workers: int = 8
    dry_run: bool = False
    max_attempts: int = 3
    chunk_size: int = 4 * MiB
    buffer_limit: int = 8 * MiB
    url_style: Literal["https", "blob"] = "https"
    s3_endpoints: tuple[str, ...] = ()
    rewrite_urls: bool = True
    progress_every: int = 100
    list_limit: int = 50


@dataclass
class MigrationTally:
    """Counts of one run. `ok` is true when every listed object ends verified.

    A dry run (`dry_run=True`) changes nothing: its `copied`, `copied_bytes` and
    `metadata_keys_renamed` stay 0 and the `would_*` fields say what the real run will do
    (`would_copy` objects of `would_copy_bytes`, `would_rename_metadata_keys` objects
    whose metadata keys get renamed, `would_fail` objects it will refuse, e.g. metadata
    key collisions). A real run leaves the `would_*` fields at 0.
    """

    source: str
    target: str
    dry_run: bool = False
    objects: int = 0
    bytes: int = 0
    copied: int = 0
    copied_bytes: int = 0
    adopted: int = 0
    skipped: int = 0
    failed: int = 0
    mismatches: int = 0
    verified_total: int = 0
    metadata_keys_renamed: int = 0
    would_copy: int = 0
    would_copy_bytes: int = 0
    would_rename_metadata_keys: int = 0
    would_fail: int = 0
    blob_names_mapped: int = 0
    url_rows_rewritten: dict[str, int] = field(default_factory=dict)
    url_rows_unresolved: dict[str, int] = field(default_factory=dict)
    unresolved_sample: list[str] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)
    plan: list[str] = field(default_factory=list)
    duration_s: float = 0.0
    copy_duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        if self.dry_run:
            return True
        return self.failed == 0 and self.mismatches == 0 and self.verified_total >= self.objects

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        data["url_rows_rewritten"]["total"] = sum(self.url_rows_rewritten.values())
        data["url_rows_unresolved"]["total"] = sum(self.url_rows_unresolved.values())
        seconds = self.copy_duration_s or 0.0
        data["mb_per_s"] = round(self.copied_bytes / 1e6 / seconds, 3) if seconds else 0.0
        data["objects_per_s"] = round((self.copied + self.adopted) / seconds, 2) if seconds else 0.0
        return data
