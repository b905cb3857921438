"""SigV4 presigned URLs and Azure SAS times, checked by the suite itself.

The suite recomputes a presigned URL's signature (with the product's own SigV4 check,
`crownsafe.storage.url_inspect`) to prove which method it is bound to
(on every S3 target, moto included, which verifies none), and re-signs one at a past
signing time to make a genuinely expired URL: botocore takes its signing time from the
wall clock and has no clock seam, and waiting out even the shortest expiry (1 s, plus the
server's clock skew allowance) would be a sleep in a test.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from crownsafe.storage.url_inspect import sigv4_presign_signature

__all__ = [
    "parse_sas_time",
    "presigned_methods",
    "query_params",
    "sigv4_presign_signature",
    "sigv4_resign",
]


def query_params(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def parse_sas_time(value: str) -> datetime:
    """An Azure SAS `st`/`se` value (ISO 8601, UTC, `Z`) as an aware datetime."""
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def sigv4_resign(url: str, secret_key: str, *, signed_at: datetime, expires_s: int) -> str:
    """The same presigned GET URL signed correctly, but at `signed_at` for `expires_s`.

    Lets a test build a genuinely expired presigned URL without a clock seam in botocore.
    """
    parts = urlsplit(url)
    params = query_params(url)
    key_id, _date, region, service, terminator = params["X-Amz-Credential"].split("/")
    params["X-Amz-Date"] = signed_at.strftime("%Y%m%dT%H%M%SZ")
    params["X-Amz-Expires"] = str(expires_s)
    params["X-Amz-Credential"] = "/".join(
        [key_id, signed_at.strftime("%Y%m%d"), region, service, terminator]
    )
    params["X-Amz-Signature"] = ""
    unsigned = parts._replace(query=urlencode(params, quote_via=quote, safe="")).geturl()
    params["X-Amz-Signature"] = sigv4_presign_signature("GET", unsigned, secret_key)
    return parts._replace(query=urlencode(params, quote_via=quote, safe="")).geturl()


def presigned_methods(url: str, secret_key: str) -> set[str]:
    """The HTTP methods whose SigV4 signature matches the presigned URL's signature."""
    signature = query_params(url)["X-Amz-Signature"]
    return {
        method
        for method in ("GET", "HEAD", "PUT", "POST", "DELETE")
        if hmac.compare_digest(sigv4_presign_signature(method, url, secret_key), signature)
    }
