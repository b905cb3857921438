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

    def broken_promises(self) -> list[str]:
        """Every count in MUST_BE_ZERO above 0 and flag in MUST_BE_TRUE that is false."""
        problems = []
        for path, value in _walk(self.sections):
            leaf = path.rsplit(".", 1)[-1]
            if leaf in MUST_BE_ZERO and isinstance(value, int | float) and value > 0:
                problems.append(f"migration: {path} = {value}")
            if leaf in MUST_BE_TRUE and value is False:
                problems.append(f"migration: {path} is false")
        return problems


def _walk(obj: object, path: str = "") -> list[tuple[str, object]]:
    if isinstance(obj, dict):
        return [kv for k, v in obj.items() for kv in _walk(v, f"{path}.{k}" if path else str(k))]
    if isinstance(obj, list):
        return [kv for i, v in enumerate(obj) for kv in _walk(v, f"{path}[{i}]")]
    return [(path, obj)]
