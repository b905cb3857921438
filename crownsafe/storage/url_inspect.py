"""What a SAS or presigned URL grants, until when, and whether our key signed it.

`inspect_url(url, ...)` reads an Azure SAS URL or an S3 presigned (SigV4 query) URL
without any I/O: its object, permissions, start and expiry, and, given the key, whether
the signature verifies. It never returns the signature or the key.

- Azure service SAS: the signature is recomputed with the account key by the Azure SDK
  itself (`generate_blob_sas` with the URL's own fields), so it verifies exactly when
  the URL is unchanged and was signed with that key at the SDK's service version. A user
  delegation SAS (`skoid`) is signed with a delegation key, not the account key: it is
  reported as not checkable with a key.
- S3 presigned: SigV4 is recomputed here for each HTTP method (the URL is bound to the
  methods whose signature matches; botocore signs `host` only, with an unsigned payload).

`renew_if_expiring(url, mint, min_remaining_s)` keeps a URL while it has enough life left
and mints a new one otherwise: what a caller holding a URL across requests uses.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import parse_qsl, quote, unquote, urlsplit

__all__ = [
    "UrlInspection",
    "inspect_url",
    "renew_if_expiring",
    "sigv4_presign_signature",
]

Verdict = Literal["verified", "does not verify", "not checked"]

_AZURE_LETTERS = {
    "r": "read",
    "a": "add",
    "c": "create",
    "w": "write",
    "d": "delete",
    "x": "delete version",
    "y": "permanent delete",
    "l": "list",
    "t": "tags",
    "f": "find",
    "m": "move",
    "e": "execute",
    "o": "ownership",
    "p": "permissions",
    "i": "set immutability policy",
}
_S3_METHODS = ("GET", "HEAD", "PUT", "POST", "DELETE")


@dataclass(frozen=True)
class UrlInspection:
    """One URL, read. `signature` says whether the given key signed it (never the value)."""

    kind: Literal["azure-sas", "s3-presigned"]
    url: str  # the URL without its query (no signature)
    container: str
    blob_name: str
    permissions: list[str]
    start: datetime | None
    expiry: datetime
    expired: bool
    remaining_seconds: float
    signature: Verdict
    signature_detail: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("start", "expiry"):
            value = data[name]
            data[name] = value.isoformat() if value is not None else None
        return data


def _params(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def sigv4_presign_signature(method: str, url: str, secret_key: str) -> str:
    """The SigV4 query signature of a presigned URL, recomputed as if sent with `method`.

    Only `host` may be a signed header (what botocore signs for a presigned URL); a URL
    signing other headers raises ValueError."""
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    params = dict(pairs)
    signed_headers = params["X-Amz-SignedHeaders"]
    if signed_headers != "host":
        raise ValueError(f"signed headers {signed_headers!r}: only 'host' can be checked here")
    canonical_query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
        for k, v in sorted(pairs)
        if k != "X-Amz-Signature"
    )
    canonical_request = "\n".join(
        [method, parts.path or "/", canonical_query, f"host:{parts.netloc}\n", signed_headers,
         "UNSIGNED-PAYLOAD"]
    )  # fmt: skip
    _key_id, date, region, service, terminator = params["X-Amz-Credential"].split("/")
    scope = f"{date}/{region}/{service}/{terminator}"
    string_to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", params["X-Amz-Date"], scope,
         hashlib.sha256(canonical_request.encode()).hexdigest()]
    )  # fmt: skip
    key = _hmac(f"AWS4{secret_key}".encode(), date)
    for part in (region, service, terminator):
        key = _hmac(key, part)
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def _s3_object(url: str) -> tuple[str, str]:
    """(bucket, key): the host names the bucket (virtual-hosted amazonaws.com), else the
    path's first segment does (path style: custom endpoints, emulators)."""
    parts = urlsplit(url)
    host, path = parts.hostname or "", unquote(parts.path).lstrip("/")
    if host.endswith(".amazonaws.com") and ".s3." in host and not host.startswith("s3."):
        return host.split(".s3.", 1)[0], path
    bucket, _, key = path.partition("/")
    return bucket, key


def _azure_object(url: str) -> tuple[str, str, str]:
    """(account, container, blob): the host names the account on Azure, the path's first
    segment on a path-style endpoint (Azurite: /devstoreaccount1/container/blob)."""
    parts = urlsplit(url)
    host, segments = parts.hostname or "", unquote(parts.path).lstrip("/").split("/")
    if host.endswith(".blob.core.windows.net"):
        return host.split(".", 1)[0], segments[0], "/".join(segments[1:])
    return segments[0], segments[1] if len(segments) > 1 else "", "/".join(segments[2:])


def _inspect_s3(url: str, params: dict[str, str], secret_key: str | None, now: datetime
                ) -> UrlInspection:  # fmt: skip
    signed_at = datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    expiry = signed_at + timedelta(seconds=int(params["X-Amz-Expires"]))
    bucket, key = _s3_object(url)
    methods: list[str] = []
    verdict: Verdict = "not checked"
    detail = "no secret key given"
    if secret_key:
        signature = params.get("X-Amz-Signature", "")
        try:
            methods = [
                m
                for m in _S3_METHODS
                if hmac.compare_digest(sigv4_presign_signature(m, url, secret_key), signature)
            ]
        except ValueError as exc:
            detail = str(exc)
        else:
            verdict = "verified" if methods else "does not verify"
            detail = (
                f"bound to {', '.join(methods)}"
                if methods
                else "no method's signature matches: tampered, or another key signed it"
            )
    return UrlInspection(
        kind="s3-presigned",
        url=urlsplit(url)._replace(query="").geturl(),
        container=bucket,
        blob_name=key,
        permissions=methods,
        start=signed_at,
        expiry=expiry,
        expired=now >= expiry,
        remaining_seconds=round((expiry - now).total_seconds(), 1),
        signature=verdict,
        signature_detail=detail,
        extra={"region": params["X-Amz-Credential"].split("/")[2]},
    )


def _sas_time(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _azure_signature(params: dict[str, str], account: str, container: str, name: str,
                     key: str) -> Verdict:  # fmt: skip
    from azure.storage.blob import generate_blob_sas
    from azure.storage.blob._shared.constants import X_MS_VERSION

    if params.get("sv") != X_MS_VERSION:
        raise ValueError(
            f"signed with service version {params.get('sv')}; this SDK signs {X_MS_VERSION}"
        )
    token = generate_blob_sas(
        account_name=account,
        container_name=container,
        blob_name=name,
        account_key=key,
        permission=params.get("sp"),
        expiry=params.get("se"),
        start=params.get("st"),
        policy_id=params.get("si"),
        ip=params.get("sip"),
        protocol=params.get("spr"),
        cache_control=params.get("rscc"),
        content_disposition=params.get("rscd"),
        content_encoding=params.get("rsce"),
        content_language=params.get("rscl"),
        content_type=params.get("rsct"),
        encryption_scope=params.get("ses"),
    )
    expected = dict(parse_qsl(token)).get("sig", "")
    return "verified" if hmac.compare_digest(expected, params.get("sig", "")) else "does not verify"


def _inspect_azure(url: str, params: dict[str, str], account_key: str | None, now: datetime
                   ) -> UrlInspection:  # fmt: skip
    account, container, name = _azure_object(url)
    expiry = _sas_time(params["se"])
    verdict: Verdict = "not checked"
    detail = "no account key given"
    if "skoid" in params:
        detail = "a user delegation SAS: signed with a delegation key, not the account key"
    elif account_key:
        try:
            verdict = _azure_signature(params, account, container, name, account_key)
        except ValueError as exc:
            detail = str(exc)
        else:
            detail = (
                "signed with this account key"
                if verdict == "verified"
                else "tampered, or another key signed it"
            )
    return UrlInspection(
        kind="azure-sas",
        url=urlsplit(url)._replace(query="").geturl(),
        container=container,
        blob_name=name,
        permissions=[_AZURE_LETTERS.get(c, c) for c in params.get("sp", "")],
        start=_sas_time(params["st"]) if params.get("st") else None,
        expiry=expiry,
        expired=now >= expiry,
        remaining_seconds=round((expiry - now).total_seconds(), 1),
        signature=verdict,
        signature_detail=detail,
        extra={k: params[k] for k in ("sv", "sr", "spr") if k in params},
    )


def inspect_url(
    url: str,
    *,
    azure_account_key: str | None = None,
    s3_secret_key: str | None = None,
    now: datetime | None = None,
) -> UrlInspection:
    """Read a SAS or presigned URL; ValueError (naming what is missing) for anything else."""
    params = _params(url)
    moment = now or datetime.now(UTC)
    if "X-Amz-Signature" in params:
        missing = {"X-Amz-Date", "X-Amz-Expires", "X-Amz-Credential"} - params.keys()
        if missing:
            raise ValueError(f"a presigned URL without {', '.join(sorted(missing))}")
        return _inspect_s3(url, params, s3_secret_key, moment)
    if "sig" in params:
        if "se" not in params:
            raise ValueError("a SAS URL without an expiry (se)")
        return _inspect_azure(url, params, azure_account_key, moment)
    raise ValueError(
        "not a SAS or presigned URL: no sig= (Azure SAS) or X-Amz-Signature= (S3) in its query"
    )


def renew_if_expiring(
    url: str,
    mint: Callable[[], str],
    *,
    min_remaining_s: float = 60.0,
    now: datetime | None = None,
) -> str:
    """`url` while it has at least `min_remaining_s` of life left, else `mint()`'s new URL.

    For a caller that holds a URL across requests (a worker, a long download): renew
    before it expires rather than after a 403."""
    inspection = inspect_url(url, now=now)
    return url if inspection.remaining_seconds >= min_remaining_s else mint()
