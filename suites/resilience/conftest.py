"""Local helpers for the resilience suite.

The fixtures that build clients through the fault proxy (`fault_proxy`,
`make_faulty_client`, `faulty_client`) come from the harness plugin
(harness/fixtures/faults.py). This module adds the suite's JSON summary
(`resilience.json` in the run folder), a capture of every log record of the suite (handed
to the end-of-session secret scan, `harness.logscan`), a fake clock and a condition waiter.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import tenacity

from crownsafe.resilience import install_log_filters
from harness.faults.summary import ResilienceSummary
from harness.logscan import find_secrets, submit_log_lines
from harness.services.provision import ProvisionedServices

MAX_RETRIES = 3
KIB = 1024
MIB = 1024 * KIB


class FakeClock:
    """A monotonic clock the test moves by hand (for the breaker's recovery timeout)."""

    def __init__(self) -> None:
        self.now = 10_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class LogCapture(logging.Handler):
    """Keeps every record of the session, formatted with its correlation id.

    It is set up the way crownsafe tells users to set up their handlers
    (`install_log_filters`: correlation id + secret redaction); `redactor.redacted` counts
    the records whose text had to be cleaned (third-party lines such as urllib3's).
    """

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        _, self.redactor = install_log_filters(self)
        self.setFormatter(
            logging.Formatter("%(levelname)s %(name)s [%(correlation_id)s] %(message)s")
        )
        self.lines: list[str] = []
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.lines.append(self.format(record))


def payload(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def wait_until(condition: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
    """Poll `condition` every 10 ms until it holds; fail with `what` after `timeout` s."""
    try:
        for attempt in tenacity.Retrying(
            stop=tenacity.stop_after_delay(timeout), wait=tenacity.wait_fixed(0.01)
        ):
            with attempt:
                assert condition(), what
    except tenacity.RetryError:
        pytest.fail(f"timed out after {timeout} s waiting for: {what}")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def resilience_summary(run_dir: Path) -> Iterator[ResilienceSummary]:
    """Collects every call's outcome; written to <run folder>/resilience.json at the end."""
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID") or uuid.uuid4().hex
    summary = ResilienceSummary(run_id, attempts_bound=MAX_RETRIES + 1)
    yield summary
    summary.write(run_dir)


@pytest.fixture(scope="session")
def suite_logs(
    request: pytest.FixtureRequest,
    storage_services: ProvisionedServices,
    resilience_summary: ResilienceSummary,
) -> Iterator[LogCapture]:
    """Every log record (INFO and up, all loggers) from its first use to the session end.

    At the end the lines go to the session's secret scan (`harness.logscan`, which fails
    the session on a hit, after every worker's last test), and this process's own scan is
    recorded in resilience.json for the report.
    """
    capture = LogCapture()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(capture)
    root.setLevel(logging.INFO)
    yield capture
    root.removeHandler(capture)
    root.setLevel(old_level)
    secrets = {
        "azure account key": getattr(storage_services.services.get("azure"), "account_key", None),
        "aws secret": getattr(storage_services.services.get("s3"), "secret_access_key", None),
    }
    literals = {what: value for what, value in secrets.items() if value}
    submit_log_lines(request.config, capture.lines, literals)
    hits = find_secrets(capture.lines, literals)
    errors = sum(" ERROR " in f" {line}" for line in capture.lines)
    resilience_summary.check(
        "no secret in logs",
        "-",
        not hits,
        f"{len(capture.lines)} lines scanned ({errors} ERROR lines), {len(hits)} secret(s) "
        f"found; the redaction filter cleaned {capture.redactor.redacted} third-party line(s)",
    )


@pytest.fixture(autouse=True)
def _capture_suite_logs(suite_logs: LogCapture) -> None:
    """Make sure the capture is installed before every test of the suite."""
