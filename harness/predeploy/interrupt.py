"""SIGINT/SIGTERM become an exception, so the probe clean-up in a `finally` always runs.

`PAUSE_FILE_ENV` is a hidden, test-only hook: when set, the round trip stops after its
upload, writes `<file>.waiting` (holding the probe's name) and waits until `<file>` exists.
A test sends SIGTERM while it waits, deterministically and without sleeping.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from harness.settings import read_settings

__all__ = ["PAUSE_FILE_ENV", "Interrupted", "pause_point", "signals_deferred", "signals_raise"]

PAUSE_FILE_ENV = "HARNESS_PREDEPLOY_PAUSE_FILE"
_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """A signal asked the run to stop (a BaseException: no `except Exception` eats it)."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"interrupted by {signal.Signals(signum).name}")


def _raise(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)


@contextmanager
def _handlers(handler: signal.Handlers | object) -> Iterator[None]:
    previous = {sig: signal.signal(sig, handler) for sig in _SIGNALS}  # type: ignore[arg-type]
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextmanager
def signals_raise() -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM raise `Interrupted`."""
    with _handlers(_raise):
        yield


@contextmanager
def signals_deferred() -> Iterator[list[int]]:
    """Within the block (the clean-up), signals are recorded, not acted on."""
    received: list[int] = []
    with _handlers(lambda signum, frame: received.append(signum)):
        yield received


def pause_point(environ: Mapping[str, str], probe_name: str, *, poll_s: float = 0.05) -> None:
    """The test-only pause (see the module docstring); returns at once when unset."""
    raw = read_settings(environ).predeploy_pause_file
    if not raw:
        return
    release = Path(raw)
    # written whole, then renamed: a reader that sees the file sees the probe's name
    partial = Path(f"{raw}.waiting.partial")
    partial.write_text(probe_name)
    partial.replace(f"{raw}.waiting")
    while not release.exists():
        time.sleep(poll_s)
