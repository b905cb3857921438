"""`benchmarks.json`: pytest-benchmark's own JSON (`--benchmark-json`, with saved data).

pytest-benchmark owns this format, so unknown keys are kept (`extra="allow"`) and only
what the report reads is typed. Each entry's `extra_info` names what it measured:
{"operation", "backend", "impl": "crownsafe" | "sdk", "size_bytes"}.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from crownsafe.config import BACKENDS
from harness.runfolder._base import RunFile

__all__ = ["BACKEND_NAMES", "BenchmarkEntry", "BenchmarkStats", "BenchmarksFile"]

BACKEND_NAMES: tuple[str, ...] = BACKENDS
_IMPL_ALIASES = {"raw": "sdk", "": "crownsafe"}


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class BenchmarkStats(_Open):
    data: list[float] = Field(default_factory=list, description="every round, seconds")
    median: float | None = None
    mean: float | None = None
    stddev: float | None = None
    rounds: int | None = None


class BenchmarkEntry(_Open):
    name: str
    fullname: str = ""
    group: str | None = None
    params: dict[str, Any] | None = None
    extra_info: dict[str, Any] = Field(default_factory=dict)
    stats: BenchmarkStats = Field(default_factory=BenchmarkStats)

    @property
    def operation(self) -> str:
        value = self.extra_info.get("operation") or self.extra_info.get("op")
        return str(value) if value else self.name.split("[")[0]

    @property
    def backend(self) -> str:
        named = self.extra_info.get("backend")
        if named:
            return str(named)
        params = [str(v) for v in (self.params or {}).values()]
        return next((b for b in BACKEND_NAMES if f"[{b}" in self.name or b in params), "-")

    @property
    def impl(self) -> str:
        raw = str(self.extra_info.get("impl") or "")
        return _IMPL_ALIASES.get(raw, raw)

    @property
    def size_bytes(self) -> int | None:
        size = self.extra_info.get("size_bytes")
        return int(size) if isinstance(size, int | float) else None

    @property
    def samples_s(self) -> list[float]:
        return list(self.stats.data)

    @property
    def median_s(self) -> float:
        if self.stats.median is not None:
            return self.stats.median
        data = sorted(self.stats.data)
        return data[len(data) // 2] if data else 0.0


class BenchmarksFile(RunFile):
    model_config = ConfigDict(extra="allow")
    FILE = "benchmarks.json"

    benchmarks: list[BenchmarkEntry] = Field(default_factory=list)
    machine_info: dict[str, Any] = Field(default_factory=dict)
