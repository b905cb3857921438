"""The one secret redactor: every log line, error message, test record and report uses it.

What counts as a secret: account keys and SAS tokens in connection strings, SAS and
presigned-URL signatures and credentials, Authorization header values (SharedKey, Bearer),
passwords in URLs and in `key=value` dumps, and any literal value the caller names. Each is
replaced by one marker, `MARKER`, so a reader (or a test) can see that something was
removed, and the rest of the text (status, error code, request id, blob name) stays.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["MARKER", "XML_MARKER", "contains_secret", "known_secrets", "redact"]

MARKER = "<redacted>"
XML_MARKER = "&lt;redacted&gt;"

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


def redact(text: str, *secrets: str | None, marker: str = MARKER) -> str:
    """`text` with every known kind of secret, and each of `secrets`, replaced by `marker`
    (pass `marker=XML_MARKER` for text that is XML or HTML, where `<redacted>` would be a
    tag)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MARKER)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text if marker == MARKER else text.replace(MARKER, marker)


def contains_secret(text: str) -> bool:
    """Whether `redact` would change `text` (a secret pattern is present)."""
    return redact(text) != text


_SECRET_NAME = re.compile(r"(?i)(KEY|SECRET|PASSWORD|TOKEN|CONNECTION_STRING|SAS)")
_EMBEDDED = re.compile(
    r"(?i)(?:AccountKey|SharedAccessSignature|sig)=([^;&\s]+)|://[^:/@\s]*:([^@\s/]+)@"
)


def known_secrets(environ: Mapping[str, str], *, min_length: int = 8) -> tuple[str, ...]:
    """The secret values configured in `environ`: whole values of secret-named variables
    (`*_KEY`, `*SECRET*`, `*PASSWORD*`, `*TOKEN*`, `*CONNECTION_STRING*`) and the keys,
    signatures and passwords embedded in any value. Pass them to `redact` where text may
    hold a secret without its `key=` prefix (a truncated repr in a test failure)."""
    found: set[str] = set()
    for name, value in environ.items():
        if not value:
            continue
        if _SECRET_NAME.search(name):
            found.add(value)
        for match in _EMBEDDED.finditer(value):
            found.update(g for g in match.groups() if g)
    return tuple(sorted((s for s in found if len(s) >= min_length), key=len, reverse=True))
