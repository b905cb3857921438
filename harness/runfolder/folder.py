"""Read a whole run folder into validated models: `read_run(path) -> RunData`.

Every file present is validated against its model. A file that cannot be read or does not
match its schema is never silently left out: it becomes a `RunFileError` in
`RunData.problems`, which the report's verdict names. Absent files are absent sections.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from harness.runfolder._base import RunFile
from harness.runfolder.alerts import AlertsFile
from harness.runfolder.bench import (
    AAFile,
    AARun,
    AddedTime,
    AddedTimeFile,
    ApiBenchFile,
    ApiBenchResult,
    ConcurrencyFile,
    GateFile,
    MemoryFile,
    MemoryPoint,
    OverheadRatio,
    PairedFile,
    PairedSamples,
    PoolFile,
    PoolPoint,
    RatiosFile,
    RssFile,
    RssPoint,
    ScrapeFile,
    ScrapePoint,
    SweepPoint,
)
from harness.runfolder.benchmarks import BenchmarkEntry, BenchmarksFile
from harness.runfolder.checks import ApiChecksFile, Check, SecurityChecksFile
from harness.runfolder.compatibility import CompatibilityFile
from harness.runfolder.contract_gaps import ContractGapsFile
from harness.runfolder.cutover import CutoverFile
from harness.runfolder.environment import EnvironmentFile
from harness.runfolder.io import RunFileError, read_file
from harness.runfolder.load import LoadFile
from harness.runfolder.migration import MigrationFile
from harness.runfolder.resilience import ResilienceFile
from harness.runfolder.services import ServicesFile
from harness.runfolder.suites import SuiteFile
from harness.runfolder.summary import StagesFile
from harness.runfolder.workload import WorkloadFile

__all__ = ["BenchData", "RunData", "read_run"]

F = TypeVar("F", bound=RunFile)


@dataclass
class BenchData:
    """Every benchmark file of a run, as lists (empty when the file is absent)."""

    benchmarks: list[BenchmarkEntry] = field(default_factory=list)
    machine_info: dict[str, Any] = field(default_factory=dict)
    sweep: list[SweepPoint] = field(default_factory=list)
    pool: list[PoolPoint] = field(default_factory=list)
    paired: list[PairedSamples] = field(default_factory=list)
    aa: list[AARun] = field(default_factory=list)
    rss: list[RssPoint] = field(default_factory=list)
    ratios: list[OverheadRatio] = field(default_factory=list)
    added_time: list[AddedTime] = field(default_factory=list)
    memory: list[MemoryPoint] = field(default_factory=list)
    api: list[ApiBenchResult] = field(default_factory=list)
    scrape: list[ScrapePoint] = field(default_factory=list)
    gate: GateFile | None = None

    def empty(self) -> bool:
        return not (
            self.benchmarks
            or self.sweep
            or self.pool
            or self.paired
            or self.aa
            or self.rss
            or self.ratios
            or self.added_time
            or self.memory
            or self.api
            or self.scrape
        )


@dataclass
class RunData:
    """Everything one run folder holds, validated (every section optional)."""

    path: Path
    environment: EnvironmentFile = field(default_factory=EnvironmentFile)
    services: ServicesFile | None = None
    suites: list[SuiteFile] = field(default_factory=list)
    bench: BenchData = field(default_factory=BenchData)
    resilience: ResilienceFile | None = None
    migration: MigrationFile | None = None
    cutover: CutoverFile | None = None
    alerts: AlertsFile | None = None
    stages: StagesFile | None = None
    load: LoadFile | None = None
    checks: dict[str, list[Check]] = field(default_factory=dict)
    workload: WorkloadFile | None = None
    compatibility: CompatibilityFile | None = None
    contract_gaps: ContractGapsFile | None = None
    problems: list[RunFileError] = field(default_factory=list)


def _optional(run: RunData, model: type[F], relative: str | None = None) -> F | None:
    relative = relative or model.FILE
    if not (run.path / relative).is_file():
        return None
    try:
        return read_file(run.path, relative, model)
    except RunFileError as problem:
        run.problems.append(problem)
        return None


def _read_bench(run: RunData) -> BenchData:
    bench = BenchData()
    if benchmarks := _optional(run, BenchmarksFile):
        bench.benchmarks, bench.machine_info = benchmarks.benchmarks, benchmarks.machine_info
    if sweep := _optional(run, ConcurrencyFile):
        bench.sweep = sweep.points
    if pool := _optional(run, PoolFile):
        bench.pool = pool.points
    if paired := _optional(run, PairedFile):
        bench.paired = paired.pairs
    if aa := _optional(run, AAFile):
        bench.aa = aa.runs
    if rss := _optional(run, RssFile):
        bench.rss = rss.points
    if ratios := _optional(run, RatiosFile):
        bench.ratios = ratios.comparisons
    if added := _optional(run, AddedTimeFile):
        bench.added_time = added.comparisons
    if memory := _optional(run, MemoryFile):
        bench.memory = memory.points
    if api := _optional(run, ApiBenchFile):
        bench.api = api.results
    if scrape := _optional(run, ScrapeFile):
        bench.scrape = scrape.points
    bench.gate = _optional(run, GateFile)
    return bench


def read_run(path: Path) -> RunData:
    """Load and validate every file present in the run folder `path`."""
    run = RunData(path=Path(path))
    if not run.path.is_dir():
        run.problems.append(RunFileError(str(path), "not a folder"))
        return run
    run.environment = _optional(run, EnvironmentFile) or EnvironmentFile()
    run.services = _optional(run, ServicesFile)
    suites_dir = run.path / "suites"
    for suite_file in sorted(suites_dir.glob("*.json")) if suites_dir.is_dir() else []:
        suite = _optional(run, SuiteFile, f"suites/{suite_file.name}")
        if suite is not None:
            run.suites.append(suite)
    run.bench = _read_bench(run)
    run.resilience = _optional(run, ResilienceFile)
    run.migration = _optional(run, MigrationFile)
    run.cutover = _optional(run, CutoverFile)
    run.alerts = _optional(run, AlertsFile)
    run.stages = _optional(run, StagesFile)
    run.load = _optional(run, LoadFile)
    for name, model in (("api", ApiChecksFile), ("security", SecurityChecksFile)):
        if checks := _optional(run, model):
            run.checks[name] = checks.checks
    run.workload = _optional(run, WorkloadFile)
    run.compatibility = _optional(run, CompatibilityFile)
    run.contract_gaps = _optional(run, ContractGapsFile)
    return run
