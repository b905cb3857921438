"""Logs of the suite: failures carry their ids, and the capture the secret scan reads works.

The scan of every captured line for secrets runs once at the end of the session, over the
lines of every xdist worker (`harness.logscan`), so no test here has to run last.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from crownsafe.errors import StorageGaveUpError, StorageThrottledError
from harness.faults import Proxy
from harness.fixtures.faults import FaultyClientFactory, RecordedSleeps
from harness.logscan import find_secrets

from .conftest import MAX_RETRIES, LogCapture

pytestmark = [pytest.mark.resilience, pytest.mark.timeout(60)]


def test_failure_lines_carry_correlation_and_service_request_ids(
    backend_name: str,
    fault_proxy: Proxy,
    make_faulty_client: FaultyClientFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Each retry WARNING and the final ERROR name the call's correlation id and request id."""
    client = make_faulty_client(sleep=RecordedSleeps())
    client.upload_file("logged.bin", b"data")
    fault_proxy.reset_counters()
    fault_proxy.add_http_fault("busy", 503)
    with caplog.at_level(logging.INFO), pytest.raises(StorageGaveUpError):
        client.download_blob("logged.bin")
    (cid,) = {r.correlation_id for r in fault_proxy.requests()}
    retries = [r for r in caplog.records if r.name == "crownsafe.resilience.retry"]
    finals = [r for r in caplog.records if r.name == "crownsafe.resilience.errors"]
    assert len(retries) == MAX_RETRIES and len(finals) == 1
    for record in [*retries, *finals]:
        fields: dict[str, Any] = record.__dict__
        assert fields["correlation_id"] == cid, record.getMessage()
        request_id = fields["service_request_id"]
        assert request_id, f"[{backend_name}] no service request id in {record.getMessage()!r}"
        assert cid is not None and cid in record.getMessage()
        assert str(request_id) in record.getMessage()
    assert finals[0].levelno == logging.ERROR
    assert finals[0].__dict__["status"] == 503
    assert finals[0].__dict__["blob_name"] == "logged.bin"


def test_the_suite_capture_sees_failure_lines_redacted(
    make_faulty_client: FaultyClientFactory, fault_proxy: Proxy, suite_logs: LogCapture
) -> None:
    """The capture the end-of-session secret scan reads gets the suite's ERROR lines, and
    they name the failed call without its credentials."""
    client = make_faulty_client(sleep=RecordedSleeps())
    client.upload_file("captured.bin", b"data")
    fault_proxy.add_http_fault("busy", 503)
    before = len(suite_logs.lines)
    with pytest.raises(StorageGaveUpError) as caught:
        client.download_blob("captured.bin")
    assert isinstance(caught.value.last_error, StorageThrottledError)
    new = suite_logs.lines[before:]
    errors = [line for line in new if line.startswith("ERROR ")]
    assert errors and any("captured.bin" in line for line in errors), new
    assert find_secrets(new) == []
