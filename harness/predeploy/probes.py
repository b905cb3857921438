"""Probe blobs: the only objects predeploy writes, so it is safe against production.

Every probe is named `_crownsafe-predeploy/<UTC timestamp>-<12 hex>-<label>` under one
reserved prefix. A run deletes its probes in a `finally` (also after SIGINT/SIGTERM, see
`harness.predeploy.interrupt`); a run that was killed outright (SIGKILL, a lost runner)
leaves its probes behind, and the next run's `predeploy.cleanup-stale-probes` deletes those
older than N minutes. Only names matching the exact pattern are ever deleted: a blob under
the prefix that predeploy did not name is left alone.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from crownsafe.errors import StorageError
from crownsafe.storage.base import StorageClient

__all__ = ["PROBE_PREFIX", "ProbeSet", "new_probe_name", "probe_time", "stale_probes"]

PROBE_PREFIX = "_crownsafe-predeploy/"
_STAMP = "%Y%m%dT%H%M%SZ"
_NAME = re.compile(r"^_crownsafe-predeploy/(\d{8}T\d{6}Z)-[0-9a-f]{12}-[a-z][a-z0-9-]{0,30}$")


def new_probe_name(
    label: str,
    *,
    now: datetime | None = None,
    token_hex: Callable[[int], str] = secrets.token_hex,
) -> str:
    """A fresh probe name; `label` says which check wrote it (e.g. "round-trip")."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    name = f"{PROBE_PREFIX}{moment.strftime(_STAMP)}-{token_hex(6)}-{label}"
    if not _NAME.match(name):
        raise ValueError(f"probe label {label!r} must be lower-case letters, digits and '-'")
    return name


def probe_time(name: str) -> datetime | None:
    """When the probe `name` was made, or None if predeploy did not name it."""
    match = _NAME.match(name)
    if match is None:
        return None
    return datetime.strptime(match.group(1), _STAMP).replace(tzinfo=UTC)


def stale_probes(names: Iterable[str], *, now: datetime, older_than: timedelta) -> list[str]:
    """The probe names made before `now - older_than` (others, and foreign names, kept)."""
    cutoff = now - older_than
    return [name for name in names if (made := probe_time(name)) is not None and made < cutoff]


@dataclass
class ProbeSet:
    """The probes this run wrote and has not deleted yet."""

    pending: list[str] = field(default_factory=list)
    written: int = 0

    def add(self, name: str) -> None:
        """Call before the upload: an upload cut short may still have stored the blob."""
        self.pending.append(name)
        self.written += 1

    def done(self, name: str) -> None:
        with contextlib.suppress(ValueError):
            self.pending.remove(name)

    def delete_all(self, client: StorageClient) -> list[str]:
        """Delete every pending probe; return those that could not be deleted."""
        left: list[str] = []
        for name in list(self.pending):
            try:
                client.delete_blob(name, missing_ok=True)
            except StorageError:
                left.append(name)
            else:
                self.done(name)
        return left
