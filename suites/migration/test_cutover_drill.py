"""The live cut-over drill end to end, small: real Azurite, moto, PostgreSQL, Redis, app,
worker, copier and locust (harness.cutover.drill), and the drill's own verdict.

Two runs: the drill as shipped must find nothing wrong; the same drill with the fallback
broken on purpose (the app reads Azure only while the backfill runs) must be not ready
and name the failed legacy reads.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cutover.drill import DrillOptions, run_drill
from harness.runfolder.cutover import CutoverFile
from harness.services.postgres import PostgresService
from harness.services.provision import ProvisionedServices
from harness.services.redis import RedisService

pytestmark = [pytest.mark.migration, pytest.mark.slow, pytest.mark.timeout(600)]

SMALL = DrillOptions(objects=120, users=4, dual_write_s=4, azure_only_s=4, quiet_s=3)


def test_the_drill_cuts_over_with_zero_failed_requests_and_nothing_lost(
    storage_services: ProvisionedServices,
    postgres_service: PostgresService,
    redis_service: RedisService,
    tmp_path: Path,
) -> None:
    """Every phase walked under load: no failed request outside the outage, every object
    on Azure with its S3 checksum, every row on Azure, fallback quiet before it went off,
    every fallback read in the audit trail, the copier's rate alone measured."""
    result = run_drill(storage_services, postgres_service, redis_service.url, tmp_path, SMALL)
    assert result.broken_promises() == []
    assert [p.phase for p in result.phases] == [
        "dual-write",
        "backfill",
        "azure-reads",
        "azure-only",
    ]
    assert result.final is not None and result.final.verified == SMALL.objects
    assert result.final.rows_still_on_s3 == 0
    legacy = [e for p in result.phases for e in p.endpoints if e.name == "/shares/[token] (legacy)"]
    assert sum(e.requests for e in legacy) > 0
    assert result.fallback_reads_counted is not None  # often 0 here: the copier is done
    assert result.fallback_reads_audited == result.fallback_reads_counted
    assert result.alone_objects_per_s and result.backfill_ratio
    assert CutoverFile.model_validate_json((tmp_path / "cutover.json").read_text()) == result


def test_a_broken_fallback_makes_the_drill_not_ready_and_names_the_reads(
    storage_services: ProvisionedServices,
    postgres_service: PostgresService,
    redis_service: RedisService,
    tmp_path: Path,
) -> None:
    """Reads that go only to Azure during the backfill fail, and the verdict says which."""
    broken = DrillOptions(**{**SMALL.__dict__, "sabotage": "no-fallback"})
    result = run_drill(storage_services, postgres_service, redis_service.url, tmp_path, broken)
    problems = result.broken_promises()
    legacy = [p for p in problems if "legacy object" in p or "(legacy)" in p]
    assert any(" in backfill" in p for p in legacy), problems
    assert not any(" in azure-only" in p for p in legacy), problems
