"""`load.json`: the load stage's runs (one per backend), written by `crownsafe-harness load`.

One `LoadRun` per backend (and per mode: a plain run, a step search, a soak). Everything in
it comes from locust's own statistics (percentiles from its response-time histograms, never
averages) and from the harness's sampling of the processes it started. The raw material sits
beside it: `load/<backend>/<mode>/` holds locust's CSV files (`*_stats.csv`,
`*_stats_history.csv`, `*_failures.csv`, `*_exceptions.csv`) and its HTML report; `files`
names them relative to the run folder.

What breaks a load run is decided here, once (`LoadRun.broken_promises`): the load
command's exit code and the report's verdict both read it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.numbers import fmt
from harness.runfolder._base import Record, RunFile

__all__ = [
    "AGGREGATED",
    "UNITS",
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

AGGREGATED = "Aggregated"
LoadMode = Literal["duration", "iterations", "step", "soak"]
SloMetric = Literal["p95_ms", "p99_ms", "error_ratio", "min_rps"]
ProcessRole = Literal["app", "worker", "generator"]
UNITS: dict[str, str] = {"p95_ms": " ms", "p99_ms": " ms", "error_ratio": "", "min_rps": " req/s"}


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

    def text(self) -> str:
        """ "GET /scans p95_ms <= 800, measured 900 ms" (or "measured no requests")."""
        value = "no requests" if self.measured is None else fmt(self.measured) + UNITS[self.metric]
        return f"{self.name}, measured {value}"


class LoadPoint(Record):
    """One row of locust's stats history (aggregated over endpoints), seconds from start."""

    t_s: float
    users: int
    rps: float
    failures_per_s: float = 0.0
    p50_ms: float | None = None
    p95_ms: float | None = None


class LoadStep(Record):
    """One step of a step load: its users, its window, and its statistics alone.
    `slos_passed`: every SLO of the endpoints it measured held (Aggregated always counts);
    `not_measured`: endpoints of the SLO file that saw no request inside the window, so
    their SLOs were not judged in this step (neither held nor breached)."""

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
    not_measured: list[str] = Field(default_factory=list)
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
    not_measured: list[str] = Field(
        default_factory=list,
        description="a plain run or soak: endpoints of the SLO file that got no request in "
        "the whole run while others did, so their SLOs were not judged (a random mix can "
        "miss a rare endpoint in a short run); a step load lists them per step instead",
    )

    @property
    def judged_on_slos(self) -> bool:
        """Whether the run's whole-run SLOs and failed requests are promises (a plain run
        or a soak). A step load is a search: the steps above its knee miss their SLOs
        and fail requests by design, so it is judged on its knee instead."""
        return self.mode != "step"

    def total(self) -> LoadEndpoint:
        """The Aggregated row, else the endpoints summed (percentiles unknown)."""
        for e in self.endpoints:
            if e.name == AGGREGATED:
                return e
        return LoadEndpoint(
            name=AGGREGATED,
            requests=sum(e.requests for e in self.endpoints),
            failures=sum(e.failures for e in self.endpoints),
            rps=sum(e.rps for e in self.endpoints),
        )

    def broken_promises(self) -> list[str]:
        """One line per promise this run broke; empty when it holds. The only rule:

        - a plain run or a soak: every whole-run SLO missed (with its measured value),
          any failed request, a soak whose app or worker memory grows past its bound;
        - a step load: no step held every SLO it measured (no knee), or a knee below
          the minimum the run asked for (the run did not pass);
        - any run the load stage marked failed (`passed` false) for a reason not above:
          its notes say why.

        A saturated load generator is never a broken promise by itself: it is a note
        (its figures are the generator's limit), shown beside the knee it withholds."""
        where = f"{self.mode} run"
        lines: list[str] = []
        if self.judged_on_slos:
            lines += [
                f"load SLO missed on {self.backend}: {s.text()} ({where})"
                for s in self.slos
                if not s.passed and s.step is None
            ]
            total = self.total()
            if total.failures:
                failing = ", ".join(
                    f"{e.name} {e.failures}"
                    for e in self.endpoints
                    if e.failures and e.name != AGGREGATED
                )
                lines.append(
                    f"load on {self.backend}: {total.failures:,} of {total.requests:,} requests "
                    f"failed ({where}{': ' + failing if failing else ''})"
                )
        elif self.knee is None or self.knee.step is None:
            why = self.knee.reason if self.knee is not None and self.knee.reason else "no knee"
            lines.append(f"load {where} on {self.backend}: no step held every SLO ({why})")
        soak = self.soak
        if soak is not None and not soak.passed:
            growth = ", ".join(
                f"{role} {fmt(g)} MiB/h"
                for role, g in (
                    ("app", soak.app_growth_mib_per_h),
                    ("worker", soak.worker_growth_mib_per_h),
                )
                if g is not None
            )
            lines.append(
                f"soak on {self.backend}: memory grows {growth or 'beyond its bound'} "
                f"(bound {fmt(soak.bound_mib_per_h)} MiB/h over {soak.duration_s / 3600:.2g} h)"
            )
        if not self.passed and not lines:
            why = "; ".join(self.notes) or "see load.json"
            lines.append(f"load {where} on {self.backend} did not pass: {why}")
        return lines


class LoadFile(RunFile):
    FILE = "load.json"

    tool: str = ""
    slo_file: str = ""
    machine: str = ""
    runs: list[LoadRun] = Field(default_factory=list)

    def broken_promises(self) -> list[str]:
        """Every run's broken promises (`LoadRun.broken_promises`), in the file's order."""
        return [line for run in self.runs for line in run.broken_promises()]
