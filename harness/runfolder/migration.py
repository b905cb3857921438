"""`migration.json`: what the migration suite measured, one named section per test.

Sections are free-form (numbers, flags, lists of steps), because each test records what
it proves. The verdict reads a fixed vocabulary inside them: a count named in
`MUST_BE_ZERO` above 0, or a flag named in `MUST_BE_TRUE` that is false, means data was
lost or a promise broken.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from harness.runfolder._base import RunFile

__all__ = ["MUST_BE_TRUE", "MUST_BE_ZERO", "MigrationFile"]

MUST_BE_ZERO = frozenset({"mismatches", "lost", "rows_pointing_at_s3"})
MUST_BE_TRUE = frozenset(
    {"checksums_equal", "resume_worked", "retry_succeeded", "copied_once", "passed"}
)


class MigrationFile(RunFile):
    FILE = "migration.json"

    postgres_provision: str = Field("", description="how PostgreSQL was obtained")
    sections: dict[str, dict[str, Any]] = Field(default_factory=dict)
