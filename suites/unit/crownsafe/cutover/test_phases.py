"""The cut-over's phase rules and the live phase reader (pure logic; injected clock)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from crownsafe.cutover.phases import PHASE_ORDER, MigrationPhase, parse_phase, rules_for
from crownsafe.cutover.state import LivePhase, PhaseTransitionError, _check_step
from crownsafe.db.models import CUTOVER_PHASES
from crownsafe.errors import StorageConfigError


def test_the_table_allows_exactly_the_phases_the_code_knows() -> None:
    assert tuple(p.value for p in PHASE_ORDER) == CUTOVER_PHASES


def test_only_azure_reads_falls_back_and_azure_only_writes_one_store() -> None:
    assert [rules_for(p).fallback for p in PHASE_ORDER] == [None, None, "s3", None]
    assert [rules_for(p).secondary for p in PHASE_ORDER] == ["azure", "azure", "s3", None]
    assert [rules_for(p).read_first for p in PHASE_ORDER] == ["s3", "s3", "azure", "azure"]


def test_an_unknown_phase_names_the_choices() -> None:
    with pytest.raises(ValueError, match="dual-write, backfill, azure-reads, azure-only"):
        parse_phase("big-bang")
    assert parse_phase(" Azure-Reads ") is MigrationPhase.AZURE_READS


@pytest.mark.parametrize(
    ("now", "to", "ok"),
    [
        (None, "dual-write", True),
        (None, "backfill", False),
        ("dual-write", "backfill", True),
        ("backfill", "dual-write", True),
        ("backfill", "azure-only", False),
        ("azure-only", "azure-reads", True),
        ("azure-only", "backfill", False),
        ("azure-reads", "azure-reads", True),
    ],
)
def test_phases_move_one_step_at_a_time(now: str | None, to: str, ok: bool) -> None:
    current = None if now is None else parse_phase(now)
    if ok:
        _check_step(current, parse_phase(to))
    else:
        with pytest.raises(PhaseTransitionError):
            _check_step(current, parse_phase(to))


class Reader:
    def __init__(self) -> None:
        self.calls = 0
        self.value: MigrationPhase | None = MigrationPhase.BACKFILL
        self.fail = False

    def __call__(self, engine: Any) -> MigrationPhase | None:
        self.calls += 1
        if self.fail:
            raise OperationalError("SELECT", {}, Exception("down"))
        return self.value


def test_the_live_phase_is_read_once_per_ttl_and_survives_an_outage(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    reader = Reader()
    live = LivePhase(object(), ttl=2.0, clock=lambda: now[0], reader=reader)  # type: ignore[arg-type]
    assert live() is MigrationPhase.BACKFILL
    reader.value = MigrationPhase.AZURE_READS
    now[0] = 1.9
    assert live() is MigrationPhase.BACKFILL
    assert reader.calls == 1
    now[0] = 2.0
    assert live() is MigrationPhase.AZURE_READS
    reader.fail = True
    for t in (4.0, 6.0, 8.0):
        now[0] = t
        assert live() is MigrationPhase.AZURE_READS
    warnings = [r for r in caplog.records if "cannot read the phase" in r.getMessage()]
    assert len(warnings) == 1


def test_no_phase_set_is_a_config_error_with_the_command_to_run() -> None:
    reader = Reader()
    reader.value = None
    live = LivePhase(object(), reader=reader)  # type: ignore[arg-type]
    with pytest.raises(StorageConfigError, match="set-phase dual-write"):
        live()
