"""`services.json`: how each service was obtained and how long it took to be ready."""

from __future__ import annotations

from pydantic import Field

from harness.runfolder._base import Record, RunFile

__all__ = ["ServiceTiming", "ServicesFile"]


class ServiceTiming(Record):
    name: str
    mode: str = Field(description="local / docker / external")
    ready_s: float | None = Field(None, description="start to ready, seconds")
    endpoint: str = Field("", description="where it listens (no credential)")
    rss_bytes: int | None = Field(None, description="resident memory once ready, if measured")


class ServicesFile(RunFile):
    FILE = "services.json"

    mode: str = ""
    started_at: str = ""
    services: list[ServiceTiming] = Field(default_factory=list)
    parallel_ready_s: float | None = Field(None, description="all services, started together")
