"""`load.json`: the load stage's runs (one per backend), written by `crownsafe-harness load`.

One `LoadRun` per backend (and per mode: a plain run, a step search, a soak). Everything in
it comes from locust's own statistics (percentiles from its response-time histograms, never
averages) and from the harness's sampling of the processes it started. The raw material sits
beside it: `load/<backend>/<mode>/` holds locust's CSV files (`*_stats.csv`,
`*_stats_history.csv`, `*_failures.csv`, `*_exceptions.csv`) and its HTML report; `files`
names them relative to the run folder.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.runfolder._base import Record, RunFile

__all__ = [
    "Knee",
    "LoadEndpoint",
    "LoadFile",
    "LoadPoint",
    "LoadRun",
    "LoadStep",
    "ResourceSample",
    "ResourceSeries",
    "SloResult",
    "SoakResult",
]

LoadMode = Literal["duration", "iterations", "step", "soak"]
SloMetric = Literal["p95_ms", "p99_ms", "error_ratio", "min_rps"]
ProcessRole = Literal["app", "worker", "generator"]


class LoadEndpoint(Record):
    """One locust stats entry (`name=` groups URLs with ids), or the `Aggregated` row."""

    name: str
    method: str = ""
    requests: int = 0
    failures: int = 0
    rps: float = 0.0
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None


class SloResult(Record):
    """One SLO of the SLO file against one endpoint's measured value (`step` set when it
    was evaluated for one step of a step load). `name` reads like
    "POST /api/v1/uploads p95_ms <= 800"; `measured` is None when the endpoint saw no
    request (then `passed` is False: an SLO nobody exercised is not met)."""

    name: str
    endpoint: str
    metric: SloMetric
    threshold: float
    measured: float | None
    passed: bool
    step: int | None = None


class LoadPoint(Record):
    """One row of locust's stats history (aggregated over endpoints), seconds from start."""

    t_s: float
    users: int
    rps: float
    failures_per_s: float = 0.0
    p50_ms: float | None = None
    p95_ms: float | None = None


class LoadStep(Record):
    """One step of a step load: its users, its window, and its statistics alone."""

    index: int
    users: int
    start_s: float
    end_s: float
    rps: float
    p95_ms: float | None = None
    p99_ms: float | None = None
    error_ratio: float = 0.0
    slos_passed: bool
    endpoints: list[LoadEndpoint] = Field(default_factory=list)
    generator_cpu_percent: float | None = None


class Knee(Record):
    """The highest step whose SLOs all hold (None fields when no step held)."""

    step: int | None
    users: int | None
    rps: float | None
    reason: str = ""


class ResourceSample(Record):
    t_s: float
    cpu_percent: float
    rss_mib: float


class ResourceSeries(Record):
    """A process tree the harness sampled (the app, the worker, the generator): CPU as a
    percentage of one core (so 200 = two cores busy), RSS summed over the tree."""

    role: ProcessRole
    pids: list[int] = Field(default_factory=list)
    cores_available: int = 1
    samples: list[ResourceSample] = Field(default_factory=list)
    peak_cpu_percent: float | None = None
    peak_rss_mib: float | None = None


class SoakResult(Record):
    """Memory growth over a soak: least-squares slope of RSS over time, per hour."""

    duration_s: float
    app_growth_mib_per_h: float | None
    worker_growth_mib_per_h: float | None
    bound_mib_per_h: float
    passed: bool


class LoadRun(Record):
    backend: str
    mode: LoadMode = "duration"
    host: str = ""
    users: int | None = None
    spawn_rate: float | None = None
    duration_s: float | None = None
    processes: int = 1
    api_workers: int = 1
    passed: bool
    endpoints: list[LoadEndpoint] = Field(default_factory=list)
    slos: list[SloResult] = Field(default_factory=list)
    history: list[LoadPoint] = Field(default_factory=list)
    steps: list[LoadStep] = Field(default_factory=list)
    knee: Knee | None = None
    generator_saturated: bool = False
    resources: list[ResourceSeries] = Field(default_factory=list)
    soak: SoakResult | None = None
    files: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


class LoadFile(RunFile):
    FILE = "load.json"

    tool: str = ""
    slo_file: str = ""
    machine: str = ""
    runs: list[LoadRun] = Field(default_factory=list)
