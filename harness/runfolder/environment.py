"""`environment.json`: the fingerprint of the machine and versions a run measured on."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from harness.runfolder._base import Record, RunFile

__all__ = ["CpuInfo", "EnvironmentFile", "GitInfo", "PythonInfo"]


class PythonInfo(Record):
    version: str
    implementation: str = ""
    executable: str = ""


class CpuInfo(Record):
    model: str = ""
    cores: int | None = None
    usable_cores: int | None = None


class GitInfo(Record):
    commit: str | None = None
    dirty: bool | None = None


class EnvironmentFile(RunFile):
    """Known keys are typed; any other key is kept and shown (secret-looking ones redacted)."""

    model_config = ConfigDict(extra="allow")
    FILE = "environment.json"

    date: str = ""
    python: PythonInfo | None = None
    platform: str = ""
    provision: str = Field("", description="how the storage services were obtained")
    packages: dict[str, str | None] = Field(default_factory=dict)
    azurite: str | None = None
    node: str | None = None
    cpu: CpuInfo = Field(default_factory=CpuInfo)
    memory_total_bytes: int | None = None
    git: GitInfo = Field(default_factory=GitInfo)

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump(exclude={"schema_version"})
