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
    "AddedTime",
    "AddedTimeFile",
    "AsyncClientsFile",
    "AsyncVsThread",
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
    "PoolFile",
    "PoolPoint",
    "RatiosFile",
    "RssFile",
    "RssPoint",
    "ScrapeFile",
    "ScrapePoint",
    "SweepPoint",
    "split_cpu",
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


class PoolPoint(Record):
    """Throughput of one storage client (resilient, as the factory builds it) with a
    connection pool of `max_connections` (STORAGE_MAX_CONNECTIONS) under `workers`
    concurrent callers (threads)."""

    backend: str
    operation: str
    size_bytes: int
    max_connections: int
    workers: int
    rounds: int = 1
    """Times the point was measured (interleaved with the other points); `ops` and
    `seconds` are totals over the rounds, `ops_per_s` the median of the rounds'."""
    ops: int
    seconds: float
    ops_per_s: float
    retries: int = 0
    """Attempts beyond the first (the client is the resilient one the factory builds)."""
    measured: bool = True


class PoolFile(PointsFile):
    FILE = "bench/pool.json"
    LIST = "points"
    IDENTITY = ("backend", "operation", "size_bytes", "max_connections", "workers")
    points: list[PoolPoint] = Field(default_factory=list)


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


class AsyncVsThread(Record):
    """The async client and the sync client in a worker thread, interleaved in one loop:
    seconds per batch of `concurrency` concurrent calls (each key one batch per round)."""

    backend: str
    operation: str
    size_bytes: int
    concurrency: int
    async_s: list[float] = Field(default_factory=list)
    thread_s: list[float] = Field(default_factory=list)
    async_cpu_s_per_call: float | None = None
    """The benchmark process's CPU seconds (all threads) per call, over every timed and
    warm-up batch: what the path costs, less sensitive to other load than wall time."""
    thread_cpu_s_per_call: float | None = None


class AsyncClientsFile(PointsFile):
    FILE = "bench/async.json"
    LIST = "points"
    IDENTITY = ("backend", "operation", "size_bytes", "concurrency")
    points: list[AsyncVsThread] = Field(default_factory=list)


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
    ceiling: float | None = Field(
        None,
        description="the highest ratio the measured parts allow, measured in the same loop "
        "(e.g. a fallback read is a miss on one store and then a read on the other: "
        "direct / (miss + direct)); a goal above it cannot be met on these services",
    )


class RatiosFile(PointsFile):
    FILE = "bench/ratios.json"
    LIST = "comparisons"
    IDENTITY = ("backend", "operation", "size_bytes", "comparison")
    comparisons: list[OverheadRatio] = Field(default_factory=list)


class AddedTime(Record):
    """difference = candidate's median time - reference's, from one interleaved loop, with a
    bootstrap CI, the A/A noise floor of the same loop (seconds), and the verdict of a goal
    stated as an absolute time the candidate may add (`goal_s`). `OverheadRatio`'s twin for
    goals in milliseconds rather than ratios (rules: harness/bench/overhead.py)."""

    backend: str
    operation: str
    size_bytes: int | None = None
    comparison: str
    candidate: str
    reference: str
    goal_s: float = Field(description="the candidate may add at most this to the median")
    goal_source: str = ""
    measured: bool = False
    profile: str = ""
    rounds: int = 0
    warmup: int = 0
    candidate_median_s: float = 0.0
    reference_median_s: float = 0.0
    difference_s: float
    ci_low_s: float
    ci_high_s: float
    confidence: float = 0.95
    aa: str = ""
    aa_difference_s: float = 0.0
    noise_floor_s: float = 0.0
    verdict: GoalVerdict = "undecided"
    reason: str = ""
    setup: dict[str, int | float | str | list[str]] = Field(
        default_factory=dict,
        description="what the run saw of the two sides (e.g. the rate limits that counted "
        "and the audit rows written by each), so a reader can check they differed as claimed",
    )
    candidate_s: list[float] = Field(default_factory=list)
    reference_s: list[float] = Field(default_factory=list)
    aa_first_s: list[float] = Field(default_factory=list)
    aa_second_s: list[float] = Field(default_factory=list)
    emulator: bool = Field(True, description="measured against an emulator, not a service")


class AddedTimeFile(PointsFile):
    FILE = "bench/added_time.json"
    LIST = "comparisons"
    IDENTITY = ("backend", "operation", "size_bytes", "comparison")
    comparisons: list[AddedTime] = Field(default_factory=list)


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
    ratio: float | None = Field(
        None, description="upload_vs_direct: API MB/s / direct MB/s (wall time, interleaved)"
    )
    app_cpu_ms_per_mib: float | None = Field(
        None, description="CPU ms per MiB of the app's process tree for POST /uploads"
    )
    floor_cpu_ms_per_mib: float | None = Field(
        None,
        description="CPU ms per MiB of the floor app (harness/services/floor_app.py: same "
        "server and settings, reads and discards the body) for the same bodies",
    )
    floor_ratio: float | None = Field(None, description="app CPU per MiB / the floor's")
    forward_cpu_ms_per_mib: float | None = Field(
        None,
        description="CPU ms per MiB of the forwarding floor (the floor app sending each body "
        "on to a loopback discard sink as it arrives: receive + forward, nothing else)",
    )
    forward_ratio: float | None = Field(
        None, description="app CPU per MiB / the forwarding floor's"
    )
    app_cpu_ms_per_upload: float | None = Field(
        None, description="CPU ms of the app's process tree per upload (the same figure per call)"
    )
    split_from_bytes: int | None = Field(
        None,
        description="the smaller size whose entry (same backend and mode, same run) this "
        "entry's CPU was split with into a fixed part per upload and a part per MiB",
    )
    app_fixed_ms: float | None = Field(None, description="app CPU per upload, fixed part")
    app_per_mib_ms: float | None = Field(None, description="app CPU per MiB, beyond the fixed part")
    floor_fixed_ms: float | None = None
    floor_per_mib_ms: float | None = None
    forward_fixed_ms: float | None = None
    forward_per_mib_ms: float | None = None
    per_mib_ratio: float | None = Field(
        None, description="app_per_mib_ms / floor_per_mib_ms: what the floor goal gates"
    )
    aim_fixed_ms: float | None = Field(
        None, description="the aim shown for app_fixed_ms (no gate: see docs/api.md)"
    )
    goal_floor_ratio: float | None = Field(None, description="goal: floor_ratio at most this")
    aim_floor_ratio: float | None = Field(None, description="the aim shown beside it (no gate)")
    api_cpu_ms_per_mib: float | None = Field(
        None, description="CPU ms per MiB of all measured processes, upload through the API"
    )
    direct_cpu_ms_per_mib: float | None = Field(
        None, description="CPU ms per MiB of all measured processes, direct upload"
    )
    cpu_ceiling: float | None = Field(
        None,
        description="direct CPU / API CPU: the wall ratio this machine allows when every "
        "process is CPU-bound",
    )
    goal_ceiling_fraction: float | None = Field(
        None, description="goal: ratio at least this fraction of cpu_ceiling"
    )
    cpu_calls: int | None = Field(None, description="uploads of each kind the CPU figures sum")
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

    def missed_goals(self) -> list[str]:
        """Each goal this result misses, with its numbers (empty: all met, or no goal).

        upload_vs_direct: the wall ratio to the direct client at least
        `goal_ceiling_fraction` of its CPU ceiling (direct CPU / API CPU), every size; and,
        where the entry carries a floor goal (the larger size), the app's CPU per MiB
        beyond its fixed part per upload at most `goal_floor_ratio` x the floor's (the
        split of two sizes: `split_cpu`). The other tests: their recorded `goal_met`."""
        if self.test != "upload_vs_direct":
            return [] if self.goal_met is not False else [self._other_figures()]
        ratio, ceiling, fraction = self.ratio, self.cpu_ceiling, self.goal_ceiling_fraction
        if ratio is None or ceiling is None or not fraction:
            return ["no CPU measurement against the floor (rerun benchmarks/test_bench_api.py)"]
        missed = []
        goal = self.goal_floor_ratio
        if goal is not None and self.per_mib_ratio is None:
            missed.append(
                "no split of the CPU into fixed and per-MiB parts (the smaller size of the "
                "same backend and mode must run in the same run)"
            )
        elif goal is not None and self.per_mib_ratio is not None and self.per_mib_ratio > goal:
            missed.append(
                f"app CPU {self.app_per_mib_ms} ms/MiB beyond its fixed {self.app_fixed_ms} ms "
                f"per upload = {self.per_mib_ratio}x the floor's {self.floor_per_mib_ms} ms/MiB "
                f"> {goal:g}x"
            )
        if ratio < fraction * ceiling - 1e-9:
            missed.append(
                f"wall ratio {ratio}x ({self.api_mb_s} vs {self.direct_mb_s} MB/s) < "
                f"{fraction:g} x its CPU ceiling {ceiling}x = {round(fraction * ceiling, 3)}x"
            )
        return missed

    def _other_figures(self) -> str:
        if self.test == "concurrent_uploads":
            return (
                f"app RSS +{self.app_peak_rss_growth_mib} MiB (goal < {self.goal_rss_mib}), "
                f"/health p99 {self.health_p99_ms} ms (goal < {self.goal_p99_ms})"
            )
        return "goal not met"


class ApiBenchFile(PointsFile):
    FILE = "bench/api.json"
    LIST = "results"
    IDENTITY = ("test", "backend", "size_bytes", "mode")
    results: list[ApiBenchResult] = Field(default_factory=list)


class ScrapePoint(Record):
    """`GET /metrics` timed while a steady mix of requests runs against the same app
    (benchmarks/test_bench_scrape.py): the scrape's p99 with a confidence interval, against
    the goal. `decide` is the one rule; readers judge a stored entry by it."""

    backend: str
    goal_p99_ms: float = Field(description="goal: p99 of one scrape below this")
    p99_ms: float
    ci_low_ms: float | None = Field(
        None,
        description="the p99's confidence interval (order statistics, distribution-free); "
        "null where the sample is too small to give the bound",
    )
    ci_high_ms: float | None = None
    confidence: float = 0.95
    p50_ms: float
    p90_ms: float
    max_ms: float
    scrapes: int = Field(description="scrapes timed (warm-up dropped), one connection")
    failed_scrapes: int = Field(0, description="scrapes answered other than 200")
    interval_s: float = Field(description="the scraper's pace: one scrape started every ...")
    seconds: float = Field(description="how long the scraper ran")
    exposition_bytes: int = Field(description="size of the last scrape's body")
    series: int = Field(description="samples (series) in the last scrape's exposition")
    load_rps: float = Field(description="requests/s the load process completed, all kinds")
    load_requests: dict[str, int] = Field(
        default_factory=dict, description="requests the load completed, per kind"
    )
    load_failures: int = Field(0, description="load requests answered with an error")
    samples_ms: list[float] = Field(default_factory=list, description="every timed scrape")
    jobs_in_database: int = Field(
        0, description="image jobs in the app's database (seeded) while the scrapes ran"
    )
    load_average: float | None = Field(
        None, description="the machine's 1-minute load average when the scrapes ended"
    )
    health_p50_ms: float | None = Field(
        None,
        description="the floor: GET /health (cached checks, no thread hop) timed right after "
        "each scrape on a connection of its own: what any request took at that moment",
    )
    health_p99_ms: float | None = None
    failed_health: int = Field(0, description="those /health requests not answered 200")
    app_cpu_ms_per_scrape: float | None = Field(
        None,
        description="the app process's CPU per scrape, measured after the load stopped: "
        "scrapes back to back, CPU time / scrapes (the background job count included)",
    )
    measured: bool = False
    profile: str = ""
    verdict: GoalVerdict = "undecided"
    reason: str = ""

    def decide(self) -> tuple[GoalVerdict, str]:
        """met: the CI's upper bound is below the goal; not met: its lower bound is at or
        above it; undecided otherwise (the CI straddles the goal or lacks a bound), and
        always for a smoke run (`measured` false: a plumbing check of a few seconds)."""
        low, high, goal = self.ci_low_ms, self.ci_high_ms, self.goal_p99_ms
        ci = f"[{_ms(low)}, {_ms(high)}]"
        where = f"p99 {self.p99_ms:.1f} ms, {self.confidence:.0%} CI {ci} over {self.scrapes}"
        if not self.measured:
            return "undecided", f"{where}: smoke run, a plumbing check only"
        if self.failed_scrapes:
            return "not met", f"{where}: {self.failed_scrapes} scrape(s) not answered 200"
        if high is not None and high < goal:
            return "met", f"{where}: CI high < goal {goal:g} ms"
        if low is not None and low >= goal:
            return "not met", f"{where}: CI low >= goal {goal:g} ms"
        if high is None:
            return "undecided", f"{where}: too few scrapes for the CI's upper bound"
        return "undecided", f"{where}: CI straddles the goal {goal:g} ms"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


class ScrapeFile(PointsFile):
    FILE = "bench/scrape.json"
    LIST = "points"
    IDENTITY = ("backend",)
    points: list[ScrapePoint] = Field(default_factory=list)


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


def split_cpu(
    small_mib: float, small_ms: float, large_mib: float, large_ms: float
) -> tuple[float, float]:
    """(fixed ms per upload, ms per MiB) of a cost measured per upload at two sizes.

    A line through the two points: what an upload costs whatever its size (auth, the rate
    limit, the row, the message, the storage request, the response) and what each MiB
    adds. Raises ValueError unless `large_mib` > `small_mib`."""
    if large_mib <= small_mib:
        raise ValueError(f"split_cpu needs two sizes, the second larger: {small_mib}, {large_mib}")
    per_mib = (large_ms - small_ms) / (large_mib - small_mib)
    return small_ms - per_mib * small_mib, per_mib
