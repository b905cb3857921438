"""The cut-over's phase log on a real PostgreSQL, and a rollback from every phase on the
real emulators: each step back leaves the store it returns to holding every object."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine

from crownsafe.cutover import cli
from crownsafe.cutover.client import MigratingStorageClient
from crownsafe.cutover.phases import MigrationPhase
from crownsafe.cutover.state import LivePhase, PhaseTransitionError, phase_history, set_phase
from crownsafe.db.session import normalize_database_url
from harness.fixtures.storage import StorageClientFactory

pytestmark = pytest.mark.migration

DUAL, BACKFILL, READS, ONLY = (
    MigrationPhase.DUAL_WRITE,
    MigrationPhase.BACKFILL,
    MigrationPhase.AZURE_READS,
    MigrationPhase.AZURE_ONLY,
)


def test_the_log_starts_in_dual_write_moves_one_step_and_is_followed_live(
    migrated_database_url: str,
) -> None:
    """A skipped phase is refused; the live reader follows each change."""
    engine = create_engine(normalize_database_url(migrated_database_url))
    now = [0.0]
    live = LivePhase(engine, ttl=1.0, clock=lambda: now[0])
    with pytest.raises(PhaseTransitionError, match="starts in dual-write"):
        set_phase(engine, BACKFILL)
    for phase in (DUAL, BACKFILL, READS):
        set_phase(engine, phase, note=f"to {phase}")
        now[0] += 1.0
        assert live() is phase
    with pytest.raises(PhaseTransitionError, match="skips a phase"):
        set_phase(engine, DUAL)
    assert [c.phase for c in phase_history(engine)] == [DUAL, BACKFILL, READS]
    engine.dispose()


def test_back_to_s3_reads_after_azure_only_needs_force(
    migrated_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """azure-only wrote Azure alone: stepping back to S3 reads is refused without --force."""
    url = ["--database-url", migrated_database_url]
    for phase in ("dual-write", "backfill", "azure-reads", "azure-only", "azure-reads"):
        assert cli.main([*url, "set-phase", phase]) == 0
    assert cli.main([*url, "set-phase", "backfill"]) == 1
    assert "exist on Azure only" in capsys.readouterr().err
    assert cli.main([*url, "set-phase", "backfill", "--force", "--note", "copied back"]) == 0
    capsys.readouterr()
    assert cli.main([*url, "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["phase"] == "backfill"
    assert [c["phase"] for c in status["history"]][-3:] == ["azure-only", "azure-reads", "backfill"]
    assert status["history"][-1]["note"] == "copied back"


def test_an_unknown_phase_is_a_usage_error(migrated_database_url: str) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--database-url", migrated_database_url, "set-phase", "big-bang"])
    assert exit_info.value.code == 2


@pytest.fixture
def stores(make_storage_client: StorageClientFactory) -> dict[str, object]:
    return {"azure": make_storage_client("azure"), "s3": make_storage_client("s3")}


def _client(stores: dict[str, object], phase: list[MigrationPhase]) -> MigratingStorageClient:
    return MigratingStorageClient(stores["azure"], stores["s3"], lambda: phase[0])  # type: ignore[arg-type]


@pytest.mark.parametrize("phase", [DUAL, BACKFILL], ids=["from-dual-write", "from-backfill"])
def test_rollback_to_s3_alone_finds_every_write_and_no_deleted_object(
    stores: dict[str, object], phase: MigrationPhase
) -> None:
    """While S3 is authoritative, switching the mode off (plain S3) loses nothing."""
    client = _client(stores, [phase])
    client.upload_file("u/kept.bin", b"kept")
    client.upload_file("u/gone.bin", b"gone")
    client.delete_blob("u/gone.bin")
    s3 = stores["s3"]
    assert s3.download_blob("u/kept.bin") == b"kept"  # type: ignore[attr-defined]
    assert not s3.blob_exists("u/gone.bin")  # type: ignore[attr-defined]


def test_rollback_from_azure_reads_to_backfill_reads_what_azure_reads_wrote(
    stores: dict[str, object],
) -> None:
    """azure-reads writes S3 second, so stepping back to S3 reads finds every new object."""
    phase = [READS]
    client = _client(stores, phase)
    client.upload_file("u/new.bin", b"written in azure-reads")
    phase[0] = BACKFILL
    assert client.download_blob("u/new.bin") == b"written in azure-reads"


def test_rollback_from_azure_only_to_azure_reads_loses_nothing(
    stores: dict[str, object],
) -> None:
    """azure-only writes Azure; back in azure-reads Azure is read first, S3 behind it."""
    stores["s3"].upload_file("old/only-on-s3.bin", b"old")  # type: ignore[attr-defined]
    phase = [ONLY]
    client = _client(stores, phase)
    client.upload_file("u/new.bin", b"new")
    phase[0] = READS
    assert client.download_blob("u/new.bin") == b"new"
    assert client.download_blob("old/only-on-s3.bin") == b"old"
