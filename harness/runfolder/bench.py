"""The benchmark files under `bench/`: sweeps, paired and A/A samples, RSS, overhead
ratios, memory goals and the regression gate. Each list entry is identified by the
fields its writer names (`IDENTITY`), so a later write of the same point replaces it."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from harness.runfolder._base import Record, RunFile

__all__ = [
    "AAFile",
    "AARun",
    "ConcurrencyFile",
    "GateFile",
    "GateRegression",
    "GoalVerdict",
    "MemoryFile",
    "MemoryPoint",
    "OverheadRatio",
    "PairedFile",
    "PairedSamples",
    "PointsFile",
    "RatiosFile",
    "RssFile",
    "RssPoint",
    "SweepPoint",
]

GoalVerdict = Literal["met", "not met", "undecided"]


class PointsFile(RunFile):
    """A bench file made of one list of entries, merged by identity."""

    LIST: ClassVar[str]
    IDENTITY: ClassVar[tuple[str, ...]]


class SweepPoint(Record):
    backend: str
    operation: str
    size_bytes: int
    workers: int
    ops: int
    seconds: float
    ops_per_s: float
    mb_per_s: float


class ConcurrencyFile(PointsFile):
    FILE = "bench/concurrency.json"
    LIST = "points"
    IDENTITY = ("backend", "operation", "size_bytes", "workers")
    points: list[SweepPoint] = Field(default_factory=list)


class PairedSamples(Record):
    """Azure and S3 measured interleaved in one loop: samples in seconds per backend."""

    operation: str
    size_bytes: int | None = None
    impl: str = "crownsafe"
    samples: dict[str, list[float]] = Field(default_factory=dict)


class PairedFile(PointsFile):
    FILE = "bench/paired.json"
    LIST = "pairs"
    IDENTITY = ("operation", "size_bytes", "impl")
    pairs: list[PairedSamples] = Field(default_factory=list)


class AARun(Record):
    """The same operation measured twice, interleaved: the noise floor."""

    backend: str
    operation: str
    size_bytes: int | None = None
    first_s: list[float] = Field(default_factory=list)
    second_s: list[float] = Field(default_factory=list)


class AAFile(PointsFile):
    FILE = "bench/aa.json"
    LIST = "runs"
    IDENTITY = ("backend", "operation", "size_bytes")
    runs: list[AARun] = Field(default_factory=list)


class RssPoint(Record):
    backend: str
    operation: str
    size_bytes: int
    peak_rss_delta_bytes: int

    @property
    def rss_mib_per_mib(self) -> float:
        return self.peak_rss_delta_bytes / self.size_bytes if self.size_bytes else 0.0


class RssFile(PointsFile):
    FILE = "bench/rss.json"
    LIST = "points"
    IDENTITY = ("backend", "operation", "size_bytes")
    points: list[RssPoint] = Field(default_factory=list)


class OverheadRatio(Record):
    """ratio = candidate ops/s / reference ops/s from one interleaved loop, with a bootstrap
    CI, the A/A noise floor of the same loop, and the goal's verdict."""

    backend: str
    operation: str
    size_bytes: int
    comparison: str
    candidate: str
    reference: str
    goal: float
    goal_source: str = ""
    measured: bool = False
    profile: str = ""
    rounds: int = 0
    warmup: int = 0
    candidate_median_s: float = 0.0
    reference_median_s: float = 0.0
    ratio: float
    ci_low: float
    ci_high: float
    confidence: float = 0.95
    aa: str = ""
    aa_ratio: float = 0.0
    noise_floor: float = 0.0
    verdict: GoalVerdict = "undecided"
    reason: str = ""
    candidate_s: list[float] = Field(default_factory=list)
    reference_s: list[float] = Field(default_factory=list)
    aa_first_s: list[float] = Field(default_factory=list)
    aa_second_s: list[float] = Field(default_factory=list)
    emulator: bool = Field(True, description="measured against an emulator, not a service")


class RatiosFile(PointsFile):
    FILE = "bench/ratios.json"
    LIST = "comparisons"
    IDENTITY = ("backend", "operation", "size_bytes", "comparison")
    comparisons: list[OverheadRatio] = Field(default_factory=list)


class MemoryPoint(Record):
    """Peak RSS of one large streamed upload in a fresh process; goal: an increase below
    `goal_bytes`."""

    backend: str
    operation: str = "upload"
    impl: str = "crownsafe"
    source: str = ""
    size_bytes: int
    baseline_rss_bytes: int
    peak_rss_bytes: int
    peak_rss_increase_bytes: int
    method: str = ""
    goal_bytes: int
    measured: bool = False
    profile: str = ""
    verdict: GoalVerdict = "undecided"
    reason: str = ""


class MemoryFile(PointsFile):
    FILE = "bench/memory.json"
    LIST = "points"
    IDENTITY = ("backend", "operation", "impl", "size_bytes")
    points: list[MemoryPoint] = Field(default_factory=list)


class ApiBenchResult(Record):
    """One API benchmark result (benchmarks/test_bench_api.py): upload through the API vs
    the storage client directly, 16 concurrent uploads (app RSS growth, /health p99), or
    share-link resolution beside /health. Fields a test does not measure stay null."""

    test: Literal["upload_vs_direct", "concurrent_uploads", "share_resolution"]
    backend: str
    size_bytes: int | None = None
    mode: Literal["multipart", "raw"] | None = Field(
        None,
        description="upload_vs_direct: how the API upload was sent (multipart/form-data, "
        "or the raw body with a Content-Length); null for the other tests",
    )
    rounds: int | None = None
    measured: bool = False
    goal_met: bool | None = Field(None, description="null where the test has no goal")
    api_mb_s: float | None = None
    direct_mb_s: float | None = None
    ratio: float | None = None
    goal_ratio: float | None = None
    uploads: int | None = None
    seconds: float | None = None
    aggregate_mb_s: float | None = None
    app_peak_rss_growth_mib: float | None = None
    goal_rss_mib: float | None = None
    rss_method: str | None = None
    health_requests: int | None = None
    health_p50_ms: float | None = None
    health_p99_ms: float | None = None
    goal_p99_ms: float | None = None
    share_rps: float | None = None
    health_rps: float | None = None


class ApiBenchFile(PointsFile):
    FILE = "bench/api.json"
    LIST = "results"
    IDENTITY = ("test", "backend", "size_bytes", "mode")
    results: list[ApiBenchResult] = Field(default_factory=list)


class GateRegression(Record):
    name: str
    baseline_median_s: float
    median_s: float
    ratio: float
    reason: str = ""


class GateFile(RunFile):
    """The regression gate: this run's benchmark medians against a baseline's."""

    FILE = "bench/gate.json"

    baseline: str = Field(description="the baseline file compared against")
    threshold: float
    noise_floor: float
    compared: int = 0
    passed: bool
    regressions: list[GateRegression] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list, description="in the baseline, not here")
