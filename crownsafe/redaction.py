"""The one secret redactor: every log line, error message, test record and report uses it.

What counts as a secret: account keys and SAS tokens in connection strings, SAS and
presigned-URL signatures and credentials, Authorization header values (SharedKey, Bearer),
passwords in URLs and in `key=value` dumps, and any literal value the caller names. Each is
replaced by one marker, `MARKER`, so a reader (or a test) can see that something was
removed, and the rest of the text (status, error code, request id, blob name) stays.
"""

from __future__ import annotations

import re

__all__ = ["MARKER", "contains_secret", "redact"]

MARKER = "<redacted>"

_SECRET_QUERY_KEYS = (
    "sig|signature|x-amz-signature|x-amz-credential|x-amz-security-token|awsaccesskeyid|credential"
)
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(rf"(?i)\b({_SECRET_QUERY_KEYS})=[^&\s\"'<>;,]+"), rf"\1={MARKER}"),
    (re.compile(r"(?i)\b(AccountKey|SharedAccessSignature)=[^;\s\"']+"), rf"\1={MARKER}"),
    (
        re.compile(
            r"(?i)\b((?:account_?key|(?:aws_)?secret_?access_?key|password|jwt_?secret)"
            r"[\"']?\s*[:=]\s*[\"']?)[^\"'\s,;}]+"
        ),
        rf"\1{MARKER}",
    ),
    (re.compile(r"(?i)\b(authorization[\"']?\s*[:=]\s*[\"']?)[^\"'\r\n,}]+"), rf"\1{MARKER}"),
    (re.compile(r"(?i)\b(SharedKey|Bearer)\s+(?!<redacted>)[^\s,'\"]+"), rf"\1 {MARKER}"),
    (re.compile(r"(?i)\b([a-z][\w+.-]*://[^:/@\s]*:)[^@\s/]+@"), rf"\1{MARKER}@"),
)


def redact(text: str, *secrets: str | None) -> str:
    """`text` with every known kind of secret, and each of `secrets`, replaced by `MARKER`."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MARKER)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def contains_secret(text: str) -> bool:
    """Whether `redact` would change `text` (a secret pattern is present)."""
    return redact(text) != text
