"""A contract run against an S3-compatible service without ListMultipartUploads,
ListObjectVersions and DeleteObjects (the stand-in of harness/services/s3_limited, all
three answered 501) leaves no bucket behind and no teardown error.

Before, `delete_container` needed all three: every contract test errored in teardown
and about one bucket per test was left on the user's service. The run here is a part of
the contract (round trips and listings; every test's teardown deletes its bucket), as
`--targets s3:external` against the stand-in; its failures are the service's gaps and are
not what this test judges.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from harness.services.s3_limited import LIMITED_OPERATIONS, LimitedS3Service

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_contract_teardown_on_a_service_without_listings_or_batch_delete(
    tmp_path: Path,
) -> None:
    report = tmp_path / "report.jsonl"
    with LimitedS3Service() as service:
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "suites/contract/test_roundtrip.py",
             "suites/contract/test_listing.py", "--targets", "s3:external",
             "--storage-apis", "sync",
             "--provision", "external", "-p", "no:xdist", "-p", "no:locust",
             "-p", "no:cacheprovider", "-q", f"--report-log={report}",
             "--run-dir", str(tmp_path / "run")],
            cwd=ROOT, capture_output=True, text=True, timeout=840, check=False,
            env={**os.environ, **service.harness_env(), "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
        upstream = service.upstream
        buckets = boto3.client(
            "s3",
            endpoint_url=upstream.endpoint_url,
            region_name=upstream.region,
            aws_access_key_id=upstream.access_key_id,
            aws_secret_access_key=upstream.secret_access_key,
        ).list_buckets()
        refused = service.requests()["refused"]
    reports = [json.loads(line) for line in report.read_text().splitlines()]
    tests = [r for r in reports if r.get("$report_type") == "TestReport"]
    ran = {r["nodeid"] for r in tests if r["when"] == "call"}
    broken_teardowns = [
        r["nodeid"] for r in tests if r["when"] == "teardown" and r["outcome"] != "passed"
    ]
    assert len(ran) >= 10, done.stdout[-3000:] + done.stderr[-3000:]
    assert broken_teardowns == [], done.stdout[-3000:]
    assert [b["Name"] for b in buckets.get("Buckets", [])] == []
    assert set(refused) <= LIMITED_OPERATIONS, refused
    assert refused["list_multipart_uploads"] >= 1 and refused["list_object_versions"] >= 1
