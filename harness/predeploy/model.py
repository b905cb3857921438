"""What a pre-deployment run is made of: checks, their outcomes, the result, the exit code.

The result (`PredeployResult`; "report" in this repository means the HTML run report) is
the one shape every output reads: the table, `--json`
(a published JSON Schema, `docs/predeploy/result.schema.json`) and the JUnit XML. The exit
code is decided once, in `decide_outcome`, and the outputs only show it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from harness.predeploy.context import Context

__all__ = [
    "EXIT_CANNOT_RUN",
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_USAGE",
    "SCHEMA_VERSION",
    "Check",
    "CheckResult",
    "Outcome",
    "PredeployResult",
    "RunOutcome",
    "Status",
    "decide_outcome",
    "failed",
    "passed",
    "skipped",
]

SCHEMA_VERSION = 1
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_CANNOT_RUN = 4
# Interrupted by a signal: 128 + the signal number (130 SIGINT, 143 SIGTERM), as a shell does.

Status = Literal["passed", "failed", "skipped", "planned"]
RunOutcome = Literal["passed", "failed", "could-not-run", "interrupted", "dry-run"]


class Outcome(BaseModel):
    """What one check found; `hint` says how to fix a failure."""

    model_config = ConfigDict(frozen=True)

    status: Status
    message: str
    hint: str = ""


def passed(message: str) -> Outcome:
    return Outcome(status="passed", message=message)


def failed(message: str, hint: str) -> Outcome:
    return Outcome(status="failed", message=message, hint=hint)


def skipped(message: str) -> Outcome:
    return Outcome(status="skipped", message=message)


@dataclass(frozen=True)
class Check:
    """One named check. `needs`: ids that must have passed first (else it is skipped);
    `writes`: what it writes to storage (shown by --dry-run; empty: read-only);
    `fatal`: when it fails nothing else can be tried (the run could not run)."""

    id: str
    title: str
    run: Callable[[Context], Outcome]
    needs: tuple[str, ...] = ()
    writes: str = ""
    fatal: bool = False

    @property
    def area(self) -> str:
        return self.id.split(".", 1)[0]


class CheckResult(BaseModel):
    """One check's result as every output shows it (message and hint already redacted)."""

    id: str = Field(description="stable id, e.g. storage.round-trip")
    area: str = Field(description="config, database, storage, sas, redis, api, predeploy")
    title: str
    status: Status
    message: str
    hint: str = Field(default="", description="how to fix a failure; empty otherwise")
    duration_s: float = 0.0
    writes: str = Field(default="", description="what the check writes to storage, if anything")


class PredeployResult(BaseModel):
    """The result of one `crownsafe-harness predeploy` run (the `--json` document)."""

    schema_version: Literal[1] = 1
    tool: Literal["crownsafe-harness predeploy"] = "crownsafe-harness predeploy"
    started_at: datetime
    duration_s: float
    backend: str | None = Field(description="STORAGE_BACKEND, or null if settings did not load")
    target: str = Field(description="the storage endpoint's kind (never its credentials)")
    outcome: RunOutcome
    exit_code: int
    counts: dict[Status, int]
    probe_prefix: str
    probes_left: list[str] = Field(
        default_factory=list, description="probe blobs that could not be deleted (normally [])"
    )
    checks: list[CheckResult]


def decide_outcome(
    results: Iterable[CheckResult],
    *,
    dry_run: bool = False,
    fatal: bool = False,
    interrupted_by: int | None = None,
    probes_left: int = 0,
) -> tuple[RunOutcome, int]:
    """The run's outcome and exit code, decided here only.

    0: every check passed or was skipped for a stated reason (not configured, an emulator
    gap, --skip); 1: a check failed or a probe blob could not be deleted; 4: the
    configuration is so broken nothing could be tried; 128+N: interrupted by signal N.
    """
    if interrupted_by is not None:
        return "interrupted", 128 + interrupted_by
    if fatal:
        return "could-not-run", EXIT_CANNOT_RUN
    if dry_run:
        return "dry-run", EXIT_OK
    if probes_left or any(result.status == "failed" for result in results):
        return "failed", EXIT_FAILED
    return "passed", EXIT_OK
