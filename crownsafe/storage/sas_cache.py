"""A Redis cache of SAS / presigned URLs (the seed's Phase 4 "SAS URL cache"), off by default.

Keyed by container, blob and permission; a URL is kept for its lifetime minus
SAS_CACHE_MIN_LIFETIME_SECONDS, so a URL served from the cache always leaves the client at
least that long. `drop(blob)` removes a blob's URLs (the API calls it when the blob is
deleted or its share revoked). A Redis failure never fails a request: the URL is minted as
if there were no cache, and the first failure of an outage is logged at WARNING.

Why off by default (`SAS_CACHE=off`): measured by `benchmarks/test_bench_sas_cache.py`, an
Azure SAS (account key or user delegation key at hand) is a local HMAC, cheaper than a
Redis round trip, and the cache lost in every run; for S3 presign two runs disagreed
(0.1x and 2.1x), so the default stays off until a steady measurement says otherwise
(docs/security.md has both runs). What is expensive, the user delegation key under
managed identity, is cached regardless, in-process, by the Azure client
(`UserDelegationKeyCache`), after which a delegation SAS is a local HMAC too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

__all__ = ["PERMISSIONS", "RedisLike", "SasUrlCache"]

log = logging.getLogger("crownsafe.storage.sas_cache")

PERMISSIONS = ("r", "w", "d", "c", "rw", "rwd")
"""The permissions whose URLs `drop` removes."""


class RedisLike(Protocol):
    def get(self, name: str) -> bytes | str | None: ...
    def set(self, name: str, value: str, *, ex: int) -> object: ...
    def delete(self, *names: str) -> object: ...


class SasUrlCache:
    """get_or_mint(blob, permission, lifetime_s, mint): a cached URL with enough life left,
    else `mint()`'s, stored for `lifetime_s - min_lifetime_s` seconds."""

    def __init__(self, redis: RedisLike, *, namespace: str, min_lifetime_s: float) -> None:
        self._redis = redis
        self._namespace = namespace
        self._min_lifetime_s = min_lifetime_s
        self._failing = False

    def _key(self, blob_name: str, permission: str) -> str:
        return f"crownsafe:sas:{self._namespace}:{permission}:{blob_name}"

    def _failed(self, action: str, exc: Exception) -> None:
        level = logging.DEBUG if self._failing else logging.WARNING
        log.log(level, "SAS URL cache %s failed (%s); minting without it", action,
                type(exc).__name__)  # fmt: skip
        self._failing = True

    def get_or_mint(
        self, blob_name: str, permission: str, lifetime_s: float, mint: Callable[[], str]
    ) -> str:
        key = self._key(blob_name, permission)
        try:
            cached = self._redis.get(key)
        except Exception as exc:
            self._failed("read", exc)
            return mint()
        if cached is not None:
            self._failing = False
            return cached.decode() if isinstance(cached, bytes) else cached
        url = mint()
        keep = int(lifetime_s - self._min_lifetime_s)
        if keep >= 1:
            try:
                self._redis.set(key, url, ex=keep)
                self._failing = False
            except Exception as exc:
                self._failed("write", exc)
        return url

    def drop(self, blob_name: str) -> None:
        """Forget every cached URL of `blob_name` (deleted, or its share revoked)."""
        try:
            self._redis.delete(*(self._key(blob_name, p) for p in PERMISSIONS))
        except Exception as exc:
            self._failed("drop", exc)
