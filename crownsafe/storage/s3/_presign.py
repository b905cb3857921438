"""Presigned S3 URLs without I/O: the method a permission maps to, the expiry rule, plain URLs."""

from __future__ import annotations

import math
from urllib.parse import quote

__all__ = ["MAX_PRESIGN_SECONDS", "object_url", "presign_expiry_seconds", "presign_method"]

MAX_PRESIGN_SECONDS = 7 * 24 * 3600


_PRESIGN_METHODS = {"r": "get_object", "w": "put_object", "d": "delete_object"}


def presign_method(permission: str) -> str:
    """The one S3 client method a presigned URL for `permission` may call.

    A presigned URL signs exactly one HTTP method, so S3 cannot express Azure's combined
    SAS permissions ("rw", "rwd", ...) nor "create only" ("c": a presigned PUT may also
    overwrite). Those raise ValueError instead of silently granting more or less.
    """
    method = _PRESIGN_METHODS.get(permission)
    if method is not None:
        return method
    if permission == "c":
        raise ValueError(
            "permission 'c' (create only) cannot be expressed on S3: a presigned PUT can also "
            "overwrite an existing object. Use permission='w' and accept overwrites"
        )
    raise ValueError(
        f"permission {permission!r} cannot be expressed as one S3 presigned URL: a presigned "
        "URL is bound to one HTTP method. Ask for one URL per permission: 'r' (GET), "
        "'w' (PUT) or 'd' (DELETE)"
    )


def presign_expiry_seconds(expiry_hours: float) -> int:
    """`expiry_hours` as whole seconds, within SigV4's limit of 7 days (604800 s)."""
    if not math.isfinite(expiry_hours) or expiry_hours <= 0:
        raise ValueError(f"expiry_hours must be a positive number of hours, got {expiry_hours!r}")
    seconds = max(1, round(expiry_hours * 3600))
    if seconds > MAX_PRESIGN_SECONDS:
        raise ValueError(
            f"expiry_hours={expiry_hours:g} is longer than the 168 hours (7 days) a SigV4 "
            "presigned URL can live; ask for 168 hours or less"
        )
    return seconds


def object_url(bucket: str, key: str, *, region: str, endpoint_url: str | None) -> str:
    """Plain (unsigned) URL of an object: path-style for a custom endpoint, else virtual-hosted."""
    quoted = quote(key, safe="/~")
    if endpoint_url:
        return f"{endpoint_url.rstrip('/')}/{bucket}/{quoted}"
    return f"https://{bucket}.s3.{region}.amazonaws.com/{quoted}"
