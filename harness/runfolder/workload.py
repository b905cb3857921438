"""`workload.json` (optional, written by hand): the workloads the cost section prices."""

from __future__ import annotations

from pydantic import Field

from harness.runfolder._base import Record, RunFile

__all__ = ["WorkloadFile", "WorkloadSpec"]


class WorkloadSpec(Record):
    name: str
    uploads_per_day: float = Field(ge=0)
    mean_object_bytes: float = Field(ge=0)
    reads_per_day: float = Field(ge=0)
    retention_days: float = Field(ge=0)
    egress_fraction: float = Field(1.0, ge=0, le=1)


class WorkloadFile(RunFile):
    FILE = "workload.json"

    profiles: list[WorkloadSpec] = Field(default_factory=list)
