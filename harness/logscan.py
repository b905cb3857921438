"""After the last test: scan every captured log line of the session for unredacted secrets.

A suite that captures log lines (the resilience suite captures every record, set up the
way crownsafe tells users to, redaction filter included) hands them over with
`submit_log_lines` when its capture ends. At the end of the session the lines of every
process are scanned together: under pytest-xdist each worker sends its lines to the
controller with its `workeroutput`, so the scan sees all of them, after all tests, and
does not depend on which test runs last. A hit fails the session (exit status 1) and the
terminal summary names each line, with the secret itself masked.

Literal secret values (the emulators' keys) are looked for where the lines were captured,
so the values never leave that process.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from crownsafe.redaction import MARKER, redact

__all__ = [
    "SECRET_PATTERNS",
    "LogScan",
    "find_secrets",
    "literal_hits",
    "pattern_hits",
    "submit_log_lines",
]

# A value counts as redacted only when it is the redactor's own marker: anything else
# (`***`, `REDACTED`, a home-made mask) did not go through `crownsafe.redaction`.
_NOT_REDACTED = rf"(?!{re.escape(MARKER)})"
SECRET_PATTERNS: dict[str, re.Pattern[str]] = {
    "SAS signature": re.compile(rf"(?i)[?&]sig={_NOT_REDACTED}[^&\s'\"]+"),
    "account key": re.compile(rf"(?i)AccountKey={_NOT_REDACTED}[^;\s'\"]+"),
    "presigned signature": re.compile(rf"(?i)X-Amz-Signature={_NOT_REDACTED}[^&\s'\"]+"),
    "Authorization value": re.compile(
        r"(?i)Authorization['\"]?\s*[:=]\s*['\"]?(SharedKey|AWS4-HMAC-SHA256|Bearer|AWS)\s*"
        rf"{_NOT_REDACTED}\S"
    ),
    "connection string": re.compile(r"(?i)DefaultEndpointsProtocol=\w+;AccountName="),
}
_WORKER_KEY = "crownsafe_log_scan"
_MAX_SHOWN = 200


def _masked(line: str, literals: Iterable[str]) -> str:
    for value in literals:
        line = line.replace(value, "<secret>")
    return line


def _literals(literals: Mapping[str, str] | None) -> dict[str, str]:
    """The secret values worth looking for: 8 characters or more (shorter ones match
    ordinary words)."""
    return {what: v for what, v in (literals or {}).items() if v and len(v) >= 8}


def pattern_hits(lines: Iterable[str]) -> list[str]:
    """One finding per (line, kind of secret SECRET_PATTERNS knows), the line redacted."""
    return [
        f"{what}: {redact(line)[:_MAX_SHOWN]}"
        for line in lines
        for what, pattern in SECRET_PATTERNS.items()
        if pattern.search(line)
    ]


def literal_hits(lines: Iterable[str], literals: Mapping[str, str] | None) -> list[str]:
    """One finding per (line, secret value it contains), the values masked."""
    values = _literals(literals)
    return [
        f"{what} in: {redact(_masked(line, values.values()))[:_MAX_SHOWN]}"
        for line in lines
        for what, value in values.items()
        if value in line
    ]


def find_secrets(lines: Iterable[str], literals: Mapping[str, str] | None = None) -> list[str]:
    """Every finding of `pattern_hits` and `literal_hits`."""
    lines = list(lines)
    return pattern_hits(lines) + literal_hits(lines, literals)


@dataclass
class LogScan:
    """What one process (or, on the controller, all of them) handed over for the scan."""

    lines: list[str] = field(default_factory=list)
    literal_hits: list[str] = field(default_factory=list)
    processes: int = 0
    hits: list[str] = field(default_factory=list)

    def add(self, data: Mapping[str, Any]) -> None:
        self.lines += [str(line) for line in data.get("lines", [])]
        self.literal_hits += [str(hit) for hit in data.get("literal_hits", [])]
        self.processes += int(data.get("processes", 0))

    def to_json(self) -> dict[str, Any]:
        return {"lines": self.lines, "literal_hits": self.literal_hits, "processes": 1}


_SCAN = pytest.StashKey[LogScan]()


def _scan(config: pytest.Config) -> LogScan:
    if _SCAN not in config.stash:
        config.stash[_SCAN] = LogScan()
    return config.stash[_SCAN]


def submit_log_lines(
    config: pytest.Config, lines: Iterable[str], literals: Mapping[str, str] | None = None
) -> None:
    """Hand captured lines to the end-of-session scan; `literals` (name -> secret value)
    are searched here, and only the masked findings travel on."""
    lines = list(lines)
    values = _literals(literals).values()
    scan = _scan(config)
    scan.lines += [_masked(line, values) for line in lines]
    scan.literal_hits += literal_hits(lines, literals)
    scan.processes = 1


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Workers send their lines on; the controller (or a lone process) scans them all.

    trylast: session fixtures, whose teardown submits the lines, end in an earlier
    implementation of this hook."""
    config = session.config
    scan = _scan(config)
    if _is_worker(config):
        config.workeroutput[_WORKER_KEY] = scan.to_json()  # type: ignore[attr-defined]
        return
    scan.hits = pattern_hits(scan.lines) + scan.literal_hits
    if scan.hits and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """xdist controller: a worker finished; keep what it captured."""
    data = getattr(node, "workeroutput", {}).get(_WORKER_KEY)
    if data:
        _scan(node.config).add(data)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    scan = config.stash.get(_SCAN, None)
    if scan is None or _is_worker(config) or not (scan.lines or scan.hits):
        return
    if scan.hits:
        terminalreporter.write_sep("=", "unredacted secrets in captured log lines", red=True)
        for hit in scan.hits[:50]:
            terminalreporter.write_line(hit)
        if len(scan.hits) > 50:
            terminalreporter.write_line(f"... and {len(scan.hits) - 50} more")
    verdict = f"{len(scan.hits)} secret(s) found" if scan.hits else "no secret found"
    terminalreporter.write_line(
        f"log scan: {len(scan.lines)} captured log lines from {scan.processes} process(es), "
        f"{verdict}"
    )
