"""Named pass/fail checks, and the files made only of them (`api.json`, `security.json`)."""

from __future__ import annotations

from pydantic import Field

from harness.runfolder._base import Record, RunFile

__all__ = ["ApiChecksFile", "Check", "ChecksFile", "SecurityChecksFile"]


class Check(Record):
    name: str
    passed: bool
    detail: str = ""
    backend: str = ""


class ChecksFile(RunFile):
    checks: list[Check] = Field(default_factory=list)


class ApiChecksFile(ChecksFile):
    FILE = "api.json"


class SecurityChecksFile(ChecksFile):
    FILE = "security.json"
