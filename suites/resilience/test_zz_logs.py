"""Logs of the suite: failures carry their ids; no secret in any line (runs last: zz)."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest

from crownsafe.errors import StorageThrottledError
from harness.faults import Proxy
from harness.faults.summary import ResilienceSummary
from harness.fixtures.faults import FaultyClientFactory, RecordedSleeps

from .conftest import MAX_RETRIES, LogCapture

pytestmark = [pytest.mark.resilience, pytest.mark.timeout(60)]

SECRET_PATTERNS = {
    "SAS signature": re.compile(r"(?i)[?&]sig=(?!REDACTED|\*\*\*|<redacted>)[^&\s'\"]+"),
    "account key": re.compile(r"(?i)AccountKey=(?!REDACTED|\*\*\*|<redacted>)[^;\s'\"]+"),
    "presigned signature": re.compile(
        r"(?i)X-Amz-Signature=(?!REDACTED|\*\*\*|<redacted>)[^&\s'\"]+"
    ),
    "Authorization value": re.compile(
        r"(?i)Authorization['\"]?\s*[:=]\s*['\"]?(SharedKey|AWS4-HMAC-SHA256|Bearer|AWS )\S"
    ),
    "connection string": re.compile(r"(?i)DefaultEndpointsProtocol=\w+;AccountName="),
}


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
    with caplog.at_level(logging.INFO), pytest.raises(StorageThrottledError):
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


def test_no_secret_in_any_log_line_of_the_suite(
    backend_name: str,
    suite_logs: LogCapture,
    storage_services: Any,
    resilience_summary: ResilienceSummary,
) -> None:
    """Scan every captured line of the suite for signatures, keys and Authorization values."""
    secrets = {
        "azure account key": getattr(storage_services.azure, "account_key", None)
        if backend_name == "azure"
        else None,
        "aws secret": getattr(storage_services.s3, "secret_access_key", None)
        if backend_name == "s3"
        else None,
    }
    lines = suite_logs.lines
    hits: list[str] = []
    for line in lines:
        for what, pattern in SECRET_PATTERNS.items():
            if pattern.search(line):
                hits.append(f"{what}: {line[:200]}")
        for what, value in secrets.items():
            if value and len(value) >= 8 and value in line:
                hits.append(f"{what} in: {line[:200]}")
    errors = sum(" ERROR " in f" {line}" for line in lines)
    resilience_summary.check(
        "no secret in logs",
        backend_name,
        not hits,
        f"{len(lines)} lines scanned ({errors} ERROR lines), {len(hits)} secret(s) found; "
        f"the redaction filter cleaned {suite_logs.redactor.redacted} third-party line(s)",
    )
    assert errors > 0, "the scan saw no failure lines: the capture is not working"
    assert not hits, "secrets in logs:\n" + "\n".join(hits[:20])
