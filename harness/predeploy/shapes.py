"""The shape of a configured value, never the value: what `config.required-variables` shows.

e.g. "connection string with DefaultEndpointsProtocol, AccountName, AccountKey (base64,
88 chars), BlobEndpoint (http, loopback)". Each function returns (shape, problem): the
problem is "" when the value is well formed, else says what is wrong with it.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import urlsplit

from harness.predeploy.http import is_loopback_url

__all__ = ["connection_string_shape", "key_shape", "text_shape", "url_shape"]

_CONNECTION_KEYS = (
    "DefaultEndpointsProtocol",
    "AccountName",
    "AccountKey",
    "SharedAccessSignature",
    "BlobEndpoint",
    "EndpointSuffix",
)


def key_shape(value: str) -> tuple[str, str]:
    """An account key: base64 of 64 bytes (88 characters) on Azure."""
    try:
        decoded = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return f"not base64, {len(value)} chars", "is not base64"
    return f"base64, {len(value)} chars", "" if decoded else "is empty"


def text_shape(value: str) -> tuple[str, str]:
    """Any other value: only its length."""
    return f"set, {len(value)} chars", ""


def url_shape(value: str, *, schemes: tuple[str, ...] = ("http", "https")) -> tuple[str, str]:
    """A URL: its scheme, whether the host is loopback, which credential parts it carries."""
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return "not a URL", "is not a URL"
    if parts.scheme not in schemes or not parts.hostname:
        return f"{parts.scheme or 'no'}-scheme value", f"is not a {'/'.join(schemes)} URL"
    pieces = [name for name, part in (("port", port), ("path", parts.path.strip("/"))) if part]
    pieces += [
        name for name, part in (("user", parts.username), ("password", parts.password)) if part
    ]
    where = "loopback" if is_loopback_url(value) else "remote"
    return f"{parts.scheme} URL ({where} host" + (f"; {', '.join(pieces)})" if pieces else ")"), ""


def connection_string_shape(value: str) -> tuple[str, str]:
    """An Azure connection string: which keys it has, and the shape of the secret ones."""
    pairs: dict[str, str] = {}
    for part in value.split(";"):
        if not part.strip():
            continue
        key, sep, inner = part.partition("=")
        if not sep or not key.strip():
            return "not Key=Value pairs", "is malformed (expected Key=Value pairs joined by ';')"
        pairs[key.strip().lower()] = inner.strip()
    shown: list[str] = []
    problems: list[str] = []
    for key in _CONNECTION_KEYS:
        if key.lower() not in pairs:
            continue
        value = pairs[key.lower()]
        if key == "AccountKey":
            shape, problem = key_shape(value)
            shown.append(f"AccountKey ({shape})")
            problems += [f"AccountKey {problem}"] if problem else []
        elif key == "BlobEndpoint":
            shape, problem = url_shape(value)
            shown.append(f"BlobEndpoint ({shape})")
            problems += [f"BlobEndpoint {problem}"] if problem else []
        else:
            shown.append(key)
    if not ({"accountkey", "sharedaccesssignature"} & pairs.keys()):
        problems.append("has neither AccountKey nor SharedAccessSignature")
    if not ({"accountname", "blobendpoint"} & pairs.keys()):
        problems.append("names neither AccountName nor BlobEndpoint")
    return f"connection string with {', '.join(shown) or 'no known keys'}", "; ".join(problems)
