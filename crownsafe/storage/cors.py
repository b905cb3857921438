"""The storage account's CORS rules, read alike from Azure and S3.

The seed's known issue 4: CORS is set on the storage account (Azure's Blob service
properties; an S3 bucket's CORS configuration), not on the container, so a browser
front-end that GETs images through SAS / presigned URLs depends on a setting the
container's own checks never see. `CorsRule` is one rule as both services hold it; the
clients' `cors_rules()` read them (not part of `StorageClient`: the pre-deployment checks
ask it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["CorsRule"]


def _items(values: Iterable[str] | str | None) -> tuple[str, ...]:
    """Azure gives comma-separated strings, S3 lists: both become trimmed tuples."""
    if values is None:
        return ()
    parts = values.split(",") if isinstance(values, str) else list(values)
    return tuple(p.strip() for p in parts if p.strip())


@dataclass(frozen=True)
class CorsRule:
    """One CORS rule: the origins it allows (`*` any, S3 also one `*` inside an origin),
    the HTTP methods and the request headers a browser may send with them."""

    origins: tuple[str, ...]
    methods: tuple[str, ...]
    headers: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        origins: Iterable[str] | str | None,
        methods: Iterable[str] | str | None,
        headers: Iterable[str] | str | None = None,
    ) -> CorsRule:
        return cls(
            _items(origins),
            tuple(m.upper() for m in _items(methods)),
            tuple(h.lower() for h in _items(headers)),
        )
