"""promtool, Prometheus' own checker, on what Crown Safe ships to Prometheus: a real
scrape of the metrics registries after storage calls (`promtool check metrics`).

promtool comes with Debian's `prometheus` package, which `make bootstrap` installs; a
machine without it fails these tests (an unchecked scrape proves nothing), never skips.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
from prometheus_client import CollectorRegistry

from crownsafe.api.metrics import ApiMetrics
from crownsafe.errors import StorageUnavailableError
from crownsafe.storage.metrics import StorageMetrics
from crownsafe.storage.resilient import ResilientStorageClient

from ..crownsafe.storage.test_resilient import FakeStorage


def promtool() -> str:
    found = shutil.which("promtool")
    assert found, (
        "promtool is not installed: run `make bootstrap` (as root it apt-gets Debian's "
        "`prometheus` package, which brings promtool; otherwise it prints the command)"
    )
    return found


def scrape_after_storage_calls() -> bytes:
    """What /metrics serves (single process) after uploads, downloads and failures."""
    storage = StorageMetrics(CollectorRegistry())
    api = ApiMetrics(storage=storage)
    fake = FakeStorage()
    client = ResilientStorageClient(fake, max_retries=1, sleep=lambda _: None, metrics=storage)
    client.upload_file("a", b"abc")
    client.download_blob("a")
    fake.fail["download_blob"] = [StorageUnavailableError("down", status=503)] * 2
    with pytest.raises(StorageUnavailableError):
        client.download_blob("a")
    api.requests.labels("POST", "/uploads", "202").inc()
    api.latency.labels("POST", "/uploads").observe(0.2)
    return api.exposition()


def test_promtool_check_metrics_passes_on_a_real_scrape() -> None:
    text = scrape_after_storage_calls()
    assert b'crownsafe_storage_errors_total{backend="fake"' in text
    done = subprocess.run(
        [promtool(), "check", "metrics"], input=text, capture_output=True, timeout=60
    )
    report = (done.stdout + done.stderr).decode(errors="replace")
    assert done.returncode == 0, f"promtool check metrics failed:\n{report}"
    assert not report.strip(), f"promtool found problems:\n{report}"
