"""What the analysis concludes: plain data the views format and nothing recomputes.

`analyse()` (harness.report.analysis) builds one `Findings` from a loaded run; the views
(harness.report.view) read only this. Every number and every verdict is here once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from harness.bench import cost, stats
from harness.bench.gate import DEFAULT_NOISE_FLOOR
from harness.report.loadfindings import LoadRunFindings
from harness.runfolder import RunData
from harness.runfolder.bench import AddedTime, MemoryPoint, OverheadRatio, SweepPoint

__all__ = [
    "EXIT_CODES",
    "SEED_ROWS",
    "AssessedItem",
    "BaselineRow",
    "CostFindings",
    "Findings",
    "ItemStatus",
    "OpStats",
    "Outcome",
    "RegressionLine",
    "SampleSet",
    "SeedRow",
    "Sweep",
    "Verdict",
]


@dataclass(frozen=True)
class SeedRow:
    """One row of the migration write-up's "Performance Benchmarks" table (its estimates, in ms)."""

    label: str
    operation: str
    size_bytes: int | None
    s3_ms: float
    azure_ms: float
    claim: str


SEED_ROWS = (
    SeedRow("Upload 1MB", "upload", 1024 * 1024, 150, 120, "20% faster"),
    SeedRow("Download 1MB", "download", 1024 * 1024, 100, 90, "10% faster"),
    SeedRow("Generate URL", "sas", None, 5, 3, "40% faster"),
    SeedRow("List 100 blobs", "list_100", None, 80, 70, "13% faster"),
)


@dataclass(frozen=True)
class SampleSet:
    samples: list[float]
    source: str

    @property
    def has_spread(self) -> bool:
        return len(self.samples) >= 2


@dataclass
class OpStats:
    """One operation at one size: per-backend median + CI and percentiles, and the call."""

    operation: str
    size_bytes: int | None
    label: str
    median: dict[str, stats.Estimate] = field(default_factory=dict)
    pct: dict[str, stats.Percentiles] = field(default_factory=dict)
    source: dict[str, str] = field(default_factory=dict)
    comparison: stats.Comparison | None = None
    noise_floor: float = DEFAULT_NOISE_FLOOR
    noise_source: str = ""

    @property
    def finding(self) -> str:
        if self.comparison is None:
            return "not compared (needs samples from both backends)"
        if self.comparison.verdict == "same":
            return "no difference called"
        faster = "Azure" if self.comparison.verdict == "faster" else "S3"
        return f"{faster} faster"

    @property
    def floor_text(self) -> str:
        """The floor this call was made against, and where it came from."""
        return f"noise floor {self.noise_floor:.1%}, {self.noise_source}"


@dataclass(frozen=True)
class BaselineRow:
    name: str
    baseline_median_s: float
    median_s: float
    comparison: stats.Comparison | None
    regression: bool


@dataclass
class Sweep:
    """A concurrency sweep of one operation and size: its points and each backend's knee
    (`stats.knee`: the fewest workers reaching 90% of the best throughput seen, or not
    reached when the sweep still grew at its last step)."""

    operation: str
    size_bytes: int
    points: list[SweepPoint]
    knees: dict[str, stats.Knee]


@dataclass
class CostFindings:
    prices: dict[str, cost.ProviderPrices]
    bills: list[tuple[cost.WorkloadProfile, list[cost.MonthlyCost]]]


Outcome = Literal["ready", "not ready", "incomplete"]
ItemStatus = Literal["passed", "failed", "undecided", "not assessed"]
EXIT_CODES: dict[str, int] = {"ready": 0, "not ready": 1, "incomplete": 3}


@dataclass(frozen=True)
class AssessedItem:
    """One thing the run profile requires, and what this run made of it."""

    label: str
    required_backends: tuple[str, ...]
    assessed_backends: tuple[str, ...]
    status: ItemStatus
    detail: str = ""


@dataclass(frozen=True)
class RegressionLine:
    """One benchmark slower than the baseline, e.g. `+18% [CI 11%, 25%] vs baseline <id>`."""

    operation: str
    name: str
    change: str
    baseline: str


@dataclass
class Verdict:
    """The run's one verdict, computed once: the report, `run`'s summary and the exit code
    all read it. ready: every required item assessed and passed; not ready: something
    failed, was lost, regressed or missed a goal or SLO; incomplete: nothing failed but
    something required was not assessed."""

    outcome: Outcome
    profile: str
    reasons: list[str]
    missing: list[str]
    notes: list[str]
    items: list[AssessedItem] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return self.outcome == "ready"

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.outcome]


@dataclass
class Findings:
    run: RunData
    baseline: RunData | None
    verdict: Verdict
    op_stats: list[OpStats]
    ratios: list[OverheadRatio]
    memory: list[MemoryPoint]
    sweeps: list[Sweep]
    baseline_rows: list[BaselineRow] | None
    costs: CostFindings
    regressions: dict[str, list[RegressionLine]] = field(default_factory=dict)
    emulated: bool = True
    load: list[LoadRunFindings] = field(default_factory=list)
    added: list[AddedTime] = field(default_factory=list)
