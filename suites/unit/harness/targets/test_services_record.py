"""services.json merging: each process adds its services, primary fields are set once."""

from __future__ import annotations

import json
import os
from pathlib import Path

from harness.services.base import Service
from harness.services.provision import ProvisionedServices, ServiceTiming
from harness.targets import TARGETS, record_services


class _Running(Service):
    """A stand-in provider whose 'process' is this test process (for its RSS)."""

    def __init__(self) -> None:
        super().__init__("local")
        self.pid = os.getpid()


def _handle(name: str, ready_s: float, endpoint: str) -> ProvisionedServices:
    return ProvisionedServices(
        mode="local",
        services={name: _Running()},
        timings=[ServiceTiming(name, "local", ready_s, endpoint)],
        parallel_ready_s=ready_s,
        started_at="2026-12-01T00:00:00+00:00",
    )


def test_targets_are_added_and_primary_fields_are_written_once(tmp_path: Path) -> None:
    localstack = _handle("s3", 7.0, "http://127.0.0.1:2")
    record_services(tmp_path, localstack, {"s3": TARGETS["s3:localstack"]}, primary=False)
    primary = _handle("s3", 0.3, "http://127.0.0.1:1")
    record_services(tmp_path, primary, {"s3": TARGETS["s3:moto"]}, primary=True)
    later = _handle("s3", 9.9, "http://127.0.0.1:1")
    record_services(tmp_path, later, {"s3": TARGETS["s3:moto"]}, primary=True)
    other_worker = _handle("s3", 8.0, "http://127.0.0.1:4")
    record_services(tmp_path, other_worker, {"s3": TARGETS["s3:localstack"]}, primary=False)

    data = json.loads((tmp_path / "services.json").read_text())
    assert data["parallel_ready_s"] == 0.3, "a later primary session leaves the record alone"
    entries = sorted((e["target"], e["endpoint"], e["ready_s"]) for e in data["services"])
    assert entries == [
        ("s3:localstack", "http://127.0.0.1:2", 7.0),
        ("s3:localstack", "http://127.0.0.1:4", 8.0),
        ("s3:moto", "http://127.0.0.1:1", 0.3),
    ]
    assert all(e["rss_mib"] > 1 for e in data["services"])
