"""The SAS / presigned URL expiry rule both backends share (pure, no SDK).

One range for `generate_sas_url(expiry_hours=...)` on every backend: greater than 0 and
at most `SAS_MAX_EXPIRY_HOURS` (168 h = 7 days). 7 days is the longest a SigV4 presigned
S3 URL can live (and a user delegation SAS on Azure); Azure's account-key SAS has no
limit of its own, but one rule on both backends means code that works on one works on
the other. A request outside it is an `InvalidSasRequestError` (a `ValueError`).
"""

from __future__ import annotations

import math

from crownsafe.errors import InvalidSasRequestError

__all__ = ["SAS_MAX_EXPIRY_HOURS", "bad_sas_request", "validate_sas_expiry"]

SAS_MAX_EXPIRY_HOURS = 168
"""The longest SAS / presigned URL either backend hands out: 7 days (SigV4's limit)."""


def bad_sas_request(
    reason: str, hint: str, *, backend: str | None = None, blob_name: str | None = None
) -> InvalidSasRequestError:
    """The typed error for a SAS request the caller got wrong."""
    return InvalidSasRequestError(
        reason, backend=backend, operation="generate_sas_url", blob_name=blob_name, hint=hint
    )


def validate_sas_expiry(
    expiry_hours: float, *, backend: str | None = None, blob_name: str | None = None
) -> float:
    """Return `expiry_hours` if it lies in (0, 168], else raise `InvalidSasRequestError`."""
    try:
        hours = float(expiry_hours)
    except (TypeError, ValueError):
        hours = math.nan
    if not hours > 0:
        raise bad_sas_request(
            f"expiry_hours={expiry_hours!r}: a SAS must expire in the future, so expiry_hours "
            "must be greater than 0",
            f"pass a number of hours greater than 0 and at most {SAS_MAX_EXPIRY_HOURS}",
            backend=backend,
            blob_name=blob_name,
        )
    if hours > SAS_MAX_EXPIRY_HOURS:
        raise bad_sas_request(
            f"expiry_hours={expiry_hours!r} is longer than the {SAS_MAX_EXPIRY_HOURS} hours "
            "(7 days) a SAS or presigned URL may live on either backend (SigV4's limit)",
            f"ask for {SAS_MAX_EXPIRY_HOURS} hours or less, and issue a new URL when it expires",
            backend=backend,
            blob_name=blob_name,
        )
    return hours
