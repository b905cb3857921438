"""Where the fleet reads the cut-over phase: the `storage_migration_phase` table.

`set_phase` appends a row (one step forward, or one step back as a rollback; a jump is
refused, because a skipped phase is a skipped safety check). `LivePhase` is the
`phase_source` of `MigratingStorageClient` under `STORAGE_MIGRATION_PHASE=live`: it reads
the newest row at most once per `ttl` seconds (injectable clock), so every process
follows a change within `ttl`, and a database that cannot be read keeps the last phase
known (logged once per outage) rather than failing every storage call.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from crownsafe.cutover.phases import PHASE_ORDER, MigrationPhase, parse_phase
from crownsafe.errors import StorageConfigError

__all__ = [
    "LivePhase",
    "PhaseChange",
    "PhaseTransitionError",
    "current_phase",
    "fixed_phase",
    "phase_history",
    "set_phase",
]

log = logging.getLogger(__name__)


class PhaseTransitionError(StorageConfigError):
    """A phase change that skips a step (forward or back)."""

    default_hint = "move one phase at a time: dual-write, backfill, azure-reads, azure-only"


@dataclass(frozen=True)
class PhaseChange:
    phase: MigrationPhase
    changed_at: datetime
    note: str | None


def phase_history(engine: Engine) -> list[PhaseChange]:
    """Every phase change, oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT phase, changed_at, note FROM storage_migration_phase ORDER BY id")
        ).all()
    return [PhaseChange(parse_phase(r.phase), r.changed_at, r.note) for r in rows]


def current_phase(engine: Engine) -> MigrationPhase | None:
    with engine.connect() as conn:
        value = conn.execute(
            text("SELECT phase FROM storage_migration_phase ORDER BY id DESC LIMIT 1")
        ).scalar_one_or_none()
    return None if value is None else parse_phase(value)


def set_phase(
    engine: Engine, phase: MigrationPhase, *, note: str | None = None, force: bool = False
) -> PhaseChange:
    """Enter `phase`: the first phase must be `dual-write`; afterwards one step either way.

    A step back to S3 reads (`azure-reads` -> `backfill`) after `azure-only` was in force
    is refused unless `force`: `azure-only` writes Azure only, so S3 lacks what was
    written then, and reads from S3 would not find it (copy it back first)."""
    with engine.begin() as conn:
        conn.execute(text("LOCK TABLE storage_migration_phase IN EXCLUSIVE MODE"))
        history = [
            parse_phase(value)
            for value in conn.execute(
                text("SELECT phase FROM storage_migration_phase ORDER BY id")
            ).scalars()
        ]
        _check_step(history[-1] if history else None, phase)
        if not force:
            _check_rollback_to_s3(history, phase)
        changed_at = conn.execute(
            text(
                "INSERT INTO storage_migration_phase (phase, note) VALUES (:phase, :note) "
                "RETURNING changed_at"
            ),
            {"phase": phase.value, "note": note},
        ).scalar_one()
    log.info("cut-over: phase %s entered%s", phase.value, f" ({note})" if note else "")
    return PhaseChange(phase, changed_at, note)


def _check_step(now: MigrationPhase | None, to: MigrationPhase) -> None:
    if now is None:
        if to is not PHASE_ORDER[0]:
            raise PhaseTransitionError(
                f"a cut-over starts in {PHASE_ORDER[0].value}, not {to.value}"
            )
        return
    distance = abs(PHASE_ORDER.index(to) - PHASE_ORDER.index(now))
    if distance > 1:
        raise PhaseTransitionError(f"{now.value} -> {to.value} skips a phase")


def _check_rollback_to_s3(history: list[MigrationPhase], to: MigrationPhase) -> None:
    if to is not MigrationPhase.BACKFILL or not history:
        return
    since = len(history) - 1 - history[::-1].index(to) if to in history else 0
    if MigrationPhase.AZURE_ONLY in history[since:]:
        raise PhaseTransitionError(
            "back to backfill (reads from S3) after azure-only: objects written while "
            "azure-only was in force exist on Azure only",
            hint="copy what changed on Azure since then back to S3 first, then pass --force; "
            "or stay in azure-reads, which reads Azure first",
        )


class LivePhase:
    """The phase in force, read from the database at most once per `ttl` seconds."""

    def __init__(
        self,
        engine: Engine,
        *,
        ttl: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        reader: Callable[[Engine], MigrationPhase | None] = current_phase,
    ) -> None:
        self.engine = engine
        self.ttl = ttl
        self.clock = clock
        self.reader = reader
        self._lock = threading.Lock()
        self._phase: MigrationPhase | None = None
        self._read_at = float("-inf")
        self._failing = False

    def __call__(self) -> MigrationPhase:
        now = self.clock()
        with self._lock:
            if now - self._read_at >= self.ttl or self._phase is None:
                self._refresh(now)
            if self._phase is None:
                raise StorageConfigError(
                    "STORAGE_MIGRATION_PHASE=live but no cut-over phase has been set",
                    hint="run: crownsafe-cutover set-phase dual-write",
                )
            return self._phase

    def _refresh(self, now: float) -> None:
        try:
            phase = self.reader(self.engine)
        except SQLAlchemyError as exc:
            if not self._failing:
                log.warning(
                    "cut-over: cannot read the phase (%s); keeping %s",
                    type(exc).__name__,
                    self._phase.value if self._phase else "none",
                )
            self._failing = True
            if self._phase is None:
                raise
            return
        if self._failing:
            log.info("cut-over: phase readable again")
        self._failing = False
        self._read_at = now
        if phase is not None:
            self._phase = phase


def fixed_phase(value: str) -> Callable[[], MigrationPhase]:
    phase = parse_phase(value)
    return lambda: phase
