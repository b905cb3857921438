"""uvicorn's httptools protocol with bounded request heads: 431 past a size or a count.

Why: uvicorn with httptools (its default when installed) puts no limit on a request's
head: a single 32 MiB header was answered 200 and grew the app's memory by as much. Real
servers bound it (nginx: four 8 KiB buffers; Apache: 100 fields of at most 8 KiB; Node:
16 KiB in all). This protocol counts the bytes received while a request's head is being
read and the number of header fields, and answers `431 Request Header Fields Too Large`
and closes the connection as soon as either is passed, before the app sees the request.
httptools buffers at most one socket read (256 KiB) beyond the limit.

Serve the app with it: `uvicorn --http crownsafe.api.server:BoundedHttpToolsProtocol ...`
(the harness does; docs/security.md). Limits: HTTP_MAX_HEAD_BYTES (default 32768) and
HTTP_MAX_HEADERS (default 100), read from the environment once, at import.
"""

from __future__ import annotations

import os

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

__all__ = ["MAX_HEADERS", "MAX_HEAD_BYTES", "BoundedHttpToolsProtocol", "limit_from_env"]


def limit_from_env(name: str, default: int) -> int:
    """A positive whole number from `name`, else `default`; anything else is refused."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{name}={raw!r} must be a whole number of 1 or more")
    return int(raw)


MAX_HEAD_BYTES = limit_from_env("HTTP_MAX_HEAD_BYTES", 32 * 1024)
MAX_HEADERS = limit_from_env("HTTP_MAX_HEADERS", 100)


class _HeadTooLargeError(Exception):
    """Raised from a parser callback: the head passed a limit (answered 431)."""


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """HttpToolsProtocol that refuses oversized request heads with 431."""

    max_head_bytes = MAX_HEAD_BYTES
    max_headers = MAX_HEADERS
    _in_head = True
    _received_in_head = 0  # bytes read while the head is incomplete (all of them are head)
    _parsed_head = 0  # bytes of the URL and fields the parser has handed over

    def data_received(self, data: bytes) -> None:
        # uvicorn's own data_received, plus the head's limits and the 431 answer
        self._unset_keepalive_if_required()
        if self._in_head:
            self._received_in_head += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            if isinstance(exc.__context__ or exc.__cause__, _HeadTooLargeError):
                self._refuse_head()
            else:
                self._invalid()
            return
        except httptools.HttpParserError:
            self._invalid()
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        # still inside the head after this read: every byte read so far is head
        if self._in_head and self._received_in_head > self.max_head_bytes:
            self._refuse_head()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head, self._parsed_head = True, 0

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        if len(self.headers) >= self.max_headers:
            raise _HeadTooLargeError
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head, self._received_in_head, self._parsed_head = True, 0, 0

    def _count(self, size: int) -> None:
        self._parsed_head += size
        if self._parsed_head > self.max_head_bytes:
            raise _HeadTooLargeError

    def _invalid(self) -> None:
        message = "Invalid HTTP request received."
        self.logger.warning(message)
        self.send_400_response(message)

    def _refuse_head(self) -> None:
        message = (
            f"Request header fields too large: at most {self.max_head_bytes} bytes and "
            f"{self.max_headers} fields"
        )
        self.logger.info("refused a request head past its limits (431)")
        content = [STATUS_LINE[431]]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend(
            [
                b"content-type: text/plain; charset=utf-8\r\n",
                b"content-length: " + str(len(message)).encode("ascii") + b"\r\n",
                b"connection: close\r\n",
                b"\r\n",
                message.encode("ascii"),
            ]
        )
        self.transport.write(b"".join(content))
        self.transport.close()
