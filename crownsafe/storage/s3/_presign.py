"""Presigned S3 URLs without I/O: the method a permission maps to, the expiry rule, plain URLs."""

from __future__ import annotations

from urllib.parse import quote

from crownsafe.storage.sas import SAS_MAX_EXPIRY_HOURS, bad_sas_request, validate_sas_expiry

__all__ = ["MAX_PRESIGN_SECONDS", "object_url", "presign_expiry_seconds", "presign_method"]

MAX_PRESIGN_SECONDS = SAS_MAX_EXPIRY_HOURS * 3600


_PRESIGN_METHODS = {"r": "get_object", "w": "put_object", "d": "delete_object"}


def presign_method(permission: str) -> str:
    """The one S3 client method a presigned URL for `permission` may call.

    A presigned URL signs exactly one HTTP method, so S3 cannot express Azure's combined
    SAS permissions ("rw", "rwd", ...) nor "create only" ("c": a presigned PUT may also
    overwrite). Those raise `InvalidSasRequestError` (a `ValueError`) instead of silently
    granting more or less.
    """
    method = _PRESIGN_METHODS.get(permission)
    if method is not None:
        return method
    if permission == "c":
        raise bad_sas_request(
            "permission 'c' (create only) cannot be expressed on S3: a presigned PUT can also "
            "overwrite an existing object",
            "use permission='w' and accept overwrites",
            backend="s3",
        )
    raise bad_sas_request(
        f"permission {permission!r} cannot be expressed as one S3 presigned URL: a presigned "
        "URL is bound to one HTTP method",
        "ask for one URL per permission: 'r' (GET), 'w' (PUT) or 'd' (DELETE)",
        backend="s3",
    )


def presign_expiry_seconds(expiry_hours: float) -> int:
    """`expiry_hours` as whole seconds; the range is (0, 168] hours (`crownsafe.storage.sas`:
    SigV4's limit of 7 days, 604800 s), else `InvalidSasRequestError`."""
    hours = validate_sas_expiry(expiry_hours, backend="s3")
    return min(MAX_PRESIGN_SECONDS, max(1, round(hours * 3600)))


def object_url(bucket: str, key: str, *, region: str, endpoint_url: str | None) -> str:
    """Plain (unsigned) URL of an object: path-style for a custom endpoint, else virtual-hosted."""
    quoted = quote(key, safe="/~")
    if endpoint_url:
        return f"{endpoint_url.rstrip('/')}/{bucket}/{quoted}"
    return f"https://{bucket}.s3.{region}.amazonaws.com/{quoted}"
