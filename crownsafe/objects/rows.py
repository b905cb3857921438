"""Rewrite the object locations stored in rows, only for objects the ledger has verified.

- `content_snapshot` and `image_jobs` keep (blob_container, blob_name), which after the
  schema rename still hold the S3 bucket and key: one set-based UPDATE joined with the
  verified ledger rows moves them to (target container, target name); a stale
  `blob_sas_url` is cleared with them.
- `scan_history.blob_url` holds URLs: `s3://bucket/key`, AWS virtual-hosted or path-style
  https URLs (a presigned query is ignored), or path-style URLs on the configured S3
  endpoint. Candidate rows are read in id order, parsed with crownsafe.storage.urls, and
  each row whose object is verified gets the target's URL.

Rows that still point at S3 afterwards (object not verified, or another bucket) are
counted as unresolved; nothing else is touched.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import Engine, bindparam, text

from crownsafe.objects.ledger import Ledger
from crownsafe.storage.urls import InvalidBlobUrlError, parse_blob_url

__all__ = ["RowRewriteResult", "S3UrlMatcher", "rewrite_rows"]

BATCH = 2000


class S3UrlMatcher:
    """Which stored URLs name an object of `bucket`, and which key."""

    def __init__(self, bucket: str, endpoints: Sequence[str] = ()) -> None:
        self.bucket = bucket
        self.endpoints = [e.rstrip("/").lower() + "/" for e in endpoints if e]

    def sql_filter(self) -> tuple[str, dict[str, str]]:
        clauses = ["blob_url LIKE 's3://%'", "blob_url LIKE '%amazonaws.com%'"]
        params: dict[str, str] = {}
        for i, endpoint in enumerate(self.endpoints):
            clauses.append(f"starts_with(lower(blob_url), :ep{i})")
            params[f"ep{i}"] = endpoint
        return "(" + " OR ".join(clauses) + ")", params

    def s3_key(self, url: str) -> tuple[str, str] | None:
        """(bucket, key) if `url` is an S3 object URL, else None."""
        lowered = url.lower()
        on_endpoint = any(lowered.startswith(e) for e in self.endpoints)
        kind: Literal["s3"] | None = "s3" if on_endpoint else None
        if kind is None and not lowered.startswith("s3://") and "amazonaws.com" not in lowered:
            return None
        try:
            location = parse_blob_url(url, kind=kind)
        except InvalidBlobUrlError:
            return None
        if location.kind != "s3":
            return None
        return location.container, location.blob_name


@dataclass
class RowRewriteResult:
    rewritten: dict[str, int] = field(default_factory=dict)
    unresolved: dict[str, int] = field(default_factory=dict)
    unresolved_sample: list[str] = field(default_factory=list)

    @property
    def total_rewritten(self) -> int:
        return sum(self.rewritten.values())

    @property
    def total_unresolved(self) -> int:
        return sum(self.unresolved.values())


_PAIR_MATCH = """
m.source_bucket = :bucket AND m.target_container = :container AND m.status = 'verified'
  AND t.blob_container = m.source_bucket AND t.blob_name = m.source_key
  AND (t.blob_container, t.blob_name) IS DISTINCT FROM (m.target_container, m.target_name)
"""
_PAIR_UPDATE = (
    "UPDATE {table} AS t SET blob_container = m.target_container, blob_name = m.target_name"
    "{extra} FROM object_migration AS m WHERE " + _PAIR_MATCH
)
_PAIR_COUNT = "SELECT count(*) FROM {table} AS t, object_migration AS m WHERE " + _PAIR_MATCH
_PAIR_LEFT = "SELECT count(*) FROM {table} WHERE blob_container = :bucket"


def rewrite_rows(
    engine: Engine,
    ledger: Ledger,
    matcher: S3UrlMatcher,
    target_url: Callable[[str], str],
    *,
    dry_run: bool = False,
) -> RowRewriteResult:
    """Point rows at their verified copies; with `dry_run`, only count what would change."""
    result = RowRewriteResult()
    params = {"bucket": ledger.bucket, "container": ledger.container}
    for table, extra in (("content_snapshot", ", blob_sas_url = NULL"), ("image_jobs", "")):
        with engine.begin() as conn:
            if dry_run:
                counted = conn.execute(text(_PAIR_COUNT.format(table=table)), params)
                result.rewritten[table] = int(counted.scalar_one())
            else:
                sql = text(_PAIR_UPDATE.format(table=table, extra=extra))
                result.rewritten[table] = conn.execute(sql, params).rowcount
            left = int(conn.execute(text(_PAIR_LEFT.format(table=table)), params).scalar_one())
        if ledger.bucket != ledger.container:
            result.unresolved[table] = left - (result.rewritten[table] if dry_run else 0)
    _rewrite_scan_history(engine, ledger, matcher, target_url, dry_run, result)
    return result


def _rewrite_scan_history(
    engine: Engine,
    ledger: Ledger,
    matcher: S3UrlMatcher,
    target_url: Callable[[str], str],
    dry_run: bool,
    result: RowRewriteResult,
) -> None:
    where, params = matcher.sql_filter()
    select_sql = text(
        "SELECT id, blob_url FROM scan_history WHERE id > :last AND blob_url IS NOT NULL "
        f"AND {where} ORDER BY id LIMIT {BATCH}"
    )
    update_sql = text(
        "UPDATE scan_history SET blob_url = :new WHERE id = :id AND blob_url = :old"
    ).bindparams(bindparam("new"), bindparam("id"), bindparam("old"))
    rewritten = unresolved = 0
    last = 0
    while True:
        with engine.connect() as conn:
            rows = conn.execute(select_sql, {"last": last, **params}).all()
        if not rows:
            break
        last = rows[-1].id
        parsed = {row.id: matcher.s3_key(row.blob_url) for row in rows}
        keys = sorted({loc[1] for loc in parsed.values() if loc and loc[0] == ledger.bucket})
        verified = ledger.verified_targets(keys)
        updates = []
        for row in rows:
            location = parsed[row.id]
            if location is None:
                continue
            bucket, key = location
            if bucket == ledger.bucket and key in verified:
                updates.append(
                    {"id": row.id, "old": row.blob_url, "new": target_url(verified[key])}
                )
            else:
                unresolved += 1
                if len(result.unresolved_sample) < 20:
                    result.unresolved_sample.append(f"scan_history.id={row.id}")
        if updates and not dry_run:
            with engine.begin() as conn:
                conn.execute(update_sql, updates)
        rewritten += len(updates)
    result.rewritten["scan_history"] = rewritten
    result.unresolved["scan_history"] = unresolved
