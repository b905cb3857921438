"""What every run-folder file model shares: a schema version, strictness, its file name."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict

__all__ = ["SCHEMA_VERSION", "Record", "RunFile"]

SCHEMA_VERSION: Literal[1] = 1


class Record(BaseModel):
    """A part of a file (a test, a cell, a point): unknown keys are an error (drift)."""

    model_config = ConfigDict(extra="forbid")


class RunFile(Record):
    """One file of the run folder. `FILE` is its path relative to the run folder (a glob
    pattern for families such as `suites/*.json`); `schema_version` says which version of
    this model wrote it (missing means 1, the first published version)."""

    FILE: ClassVar[str]
    schema_version: Literal[1] = SCHEMA_VERSION
