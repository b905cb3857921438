"""The one way a command line prints JSON: a single document, and nothing else, on stdout.

`json_stdout(True)` reserves the process's stdout for the JSON document: while it is
active, everything else that would reach stdout (`print`, a logging handler, a rich
console, a child process that inherits file descriptor 1) goes to stderr instead, and
`emit(document)` writes the document to the real stdout. With `json_stdout(False)` the
command prints as usual and `emit` writes to stdout too. Every `--json` of
`crownsafe-migrate-objects` and `crownsafe-harness` goes through it, so a machine can
always pipe stdout into a JSON parser.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TextIO

__all__ = ["JsonStdout", "dumps", "json_stdout"]


def dumps(document: Any) -> str:
    """`document` as the commands print it: indented, keys sorted, one trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@dataclass
class JsonStdout:
    """Where `emit` writes: the real stdout, whatever else has been sent to stderr."""

    stream: TextIO
    enabled: bool

    def emit(self, document: Any) -> None:
        """Write one JSON document (a str is taken as JSON text already) and flush."""
        text = document if isinstance(document, str) else dumps(document)
        self.stream.write(text if text.endswith("\n") else text + "\n")
        self.stream.flush()


def _fileno(stream: TextIO) -> int | None:
    try:
        return stream.fileno()
    except (AttributeError, OSError, ValueError):
        return None


@contextlib.contextmanager
def json_stdout(enabled: bool) -> Iterator[JsonStdout]:
    """Reserve stdout for `emit` while the block runs (when `enabled`); see the module."""
    out = sys.stdout
    if not enabled:
        yield JsonStdout(out, enabled=False)
        return
    out.flush()
    out_fd, err_fd = _fileno(out), _fileno(sys.stderr)
    saved: int | None = None
    stream: TextIO = out
    if out_fd is not None and err_fd is not None:
        # File-descriptor level, so child processes and handlers bound to the old
        # sys.stdout object are redirected too; the document goes to a copy of the fd.
        saved = os.dup(out_fd)
        os.dup2(err_fd, out_fd)
        stream = open(saved, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield JsonStdout(stream, enabled=True)
    finally:
        sys.stderr.flush()
        if saved is not None and out_fd is not None:
            stream.close()
            os.dup2(saved, out_fd)
            os.close(saved)
