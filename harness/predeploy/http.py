"""Plain HTTP for the checks that must not use an SDK: SAS URLs, anonymous reads, /health.

urllib only (no extra dependency). Never raises for an HTTP status: callers judge the
status. The URL is never part of a message made here (it may carry a signature).
"""

from __future__ import annotations

import re
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from crownsafe.storage.urls import is_loopback_host

__all__ = ["HttpAnswer", "is_loopback_url", "request"]

_ERROR_CODE = re.compile(rb"<Code>([A-Za-z]+)</Code>")


@dataclass(frozen=True)
class HttpAnswer:
    """A response (status, body, the service's error code), or a transport error."""

    status: int | None
    body: bytes = b""
    error: str = ""

    @property
    def error_code(self) -> str:
        match = _ERROR_CODE.search(self.body[:2000])
        return match.group(1).decode() if match else ""

    def describe(self) -> str:
        if self.status is None:
            return f"no HTTP answer ({self.error})"
        code = self.error_code
        return f"HTTP {self.status}" + (f" {code}" if code else "")


def is_loopback_url(url: str) -> bool:
    """Whether `url`'s host is this machine (where emulators run), never a real service."""
    return is_loopback_host((urlsplit(url).hostname or "").lower())


def request(
    method: str,
    url: str,
    *,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
    cafile: str | None = None,
) -> HttpAnswer:
    """One request, no redirects followed, no SDK; `cafile` for a private CA (e.g. Azurite)."""
    context = ssl.create_default_context(cafile=cafile) if cafile else None
    opener = urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=context), _NoRedirect()
    )
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with opener.open(req, timeout=timeout) as response:
            return HttpAnswer(int(response.status), response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return HttpAnswer(int(exc.code), exc.read())
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return HttpAnswer(None, error=f"{type(exc).__name__}: {reason}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None
