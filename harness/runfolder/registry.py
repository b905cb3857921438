"""Every run-folder file model, and which model a path in a run folder belongs to."""

from __future__ import annotations

from fnmatch import fnmatch

from harness.runfolder._base import RunFile
from harness.runfolder.alerts import AlertsFile
from harness.runfolder.bench import (
    AAFile,
    AddedTimeFile,
    ApiBenchFile,
    AsyncClientsFile,
    ConcurrencyFile,
    GateFile,
    MemoryFile,
    PairedFile,
    PoolFile,
    RatiosFile,
    RssFile,
    ScrapeFile,
)
from harness.runfolder.benchmarks import BenchmarksFile
from harness.runfolder.checks import ApiChecksFile, SecurityChecksFile
from harness.runfolder.compatibility import CompatibilityFile
from harness.runfolder.contract_gaps import ContractGapsFile
from harness.runfolder.cutover import CutoverFile
from harness.runfolder.environment import EnvironmentFile
from harness.runfolder.load import LoadFile
from harness.runfolder.migration import MigrationFile
from harness.runfolder.resilience import ResilienceFile
from harness.runfolder.services import ServicesFile
from harness.runfolder.suites import SuiteFile
from harness.runfolder.summary import RunSummaryFile, StagesFile
from harness.runfolder.workload import WorkloadFile

__all__ = ["FILE_MODELS", "model_for"]

FILE_MODELS: tuple[type[RunFile], ...] = (
    EnvironmentFile,
    ServicesFile,
    SuiteFile,
    BenchmarksFile,
    ConcurrencyFile,
    PoolFile,
    PairedFile,
    AAFile,
    RssFile,
    AsyncClientsFile,
    RatiosFile,
    AddedTimeFile,
    MemoryFile,
    GateFile,
    ApiBenchFile,
    ScrapeFile,
    ResilienceFile,
    MigrationFile,
    CutoverFile,
    AlertsFile,
    LoadFile,
    ApiChecksFile,
    SecurityChecksFile,
    WorkloadFile,
    RunSummaryFile,
    StagesFile,
    CompatibilityFile,
    ContractGapsFile,
)


def model_for(relative: str) -> type[RunFile] | None:
    """The model of `relative` (e.g. 'suites/contract.json'), None for unknown files."""
    return next((m for m in FILE_MODELS if fnmatch(relative, m.FILE)), None)
