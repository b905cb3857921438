"""`load.json`: a load run's requests per endpoint and its SLO verdicts."""

from __future__ import annotations

from pydantic import Field

from harness.runfolder._base import Record, RunFile
from harness.runfolder.checks import Check

__all__ = ["LoadEndpoint", "LoadFile"]


class LoadEndpoint(Record):
    name: str
    backend: str = ""
    requests: int = 0
    failures: int = 0
    rps: float = 0.0
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None


class LoadFile(RunFile):
    FILE = "load.json"

    tool: str = ""
    users: int | None = None
    duration_s: float | None = None
    endpoints: list[LoadEndpoint] = Field(default_factory=list)
    slos: list[Check] = Field(default_factory=list)
