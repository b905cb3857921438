"""The phases of a live S3 -> Azure cut-over, and what each one allows (pure rules).

A phase decides, for every storage call of the app and the worker, which store is written,
which is read first, and whether a read may fall back to S3:

| phase          | writes                          | reads                      |
|----------------|---------------------------------|----------------------------|
| `dual-write`   | S3 (authoritative), then Azure  | S3                         |
| `backfill`     | S3 (authoritative), then Azure  | S3 (migrate-objects copies)|
| `azure-reads`  | Azure (authoritative), then S3  | Azure, then S3 (fallback)  |
| `azure-only`   | Azure                           | Azure, no fallback         |

The fifth step, S3 retired, is not a phase of this mode: the app then runs with plain
`STORAGE_BACKEND=azure` and no `STORAGE_MIGRATION_PHASE`.

Rollback is a step back to the previous phase, and loses nothing as long as the second
write of every phase before it succeeded: `dual-write`/`backfill` keep S3 whole, and
`azure-reads` still writes S3 after Azure, so returning to `backfill` finds every new
object on S3. A second write that failed is counted (`secondary_write_failures`), and a
rollback is safe only while that count is zero (the runbook says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["PHASE_ORDER", "MigrationPhase", "PhaseRules", "parse_phase", "rules_for"]


class MigrationPhase(StrEnum):
    DUAL_WRITE = "dual-write"
    BACKFILL = "backfill"
    AZURE_READS = "azure-reads"
    AZURE_ONLY = "azure-only"


PHASE_ORDER: tuple[MigrationPhase, ...] = tuple(MigrationPhase)


@dataclass(frozen=True)
class PhaseRules:
    """What a phase allows. `primary` is written first and must succeed; `secondary` is
    written after it when set (a failure there is counted, the call still succeeds)."""

    primary: str
    secondary: str | None
    read_first: str
    fallback: str | None


_RULES = {
    MigrationPhase.DUAL_WRITE: PhaseRules("s3", "azure", "s3", None),
    MigrationPhase.BACKFILL: PhaseRules("s3", "azure", "s3", None),
    MigrationPhase.AZURE_READS: PhaseRules("azure", "s3", "azure", "s3"),
    MigrationPhase.AZURE_ONLY: PhaseRules("azure", None, "azure", None),
}


def rules_for(phase: MigrationPhase) -> PhaseRules:
    return _RULES[phase]


def parse_phase(value: str) -> MigrationPhase:
    """A phase from its name (as in STORAGE_MIGRATION_PHASE); ValueError names the choices."""
    try:
        return MigrationPhase(value.strip().lower())
    except ValueError:
        choices = ", ".join(p.value for p in MigrationPhase)
        raise ValueError(f"{value!r} is not a migration phase; choose one of: {choices}") from None
