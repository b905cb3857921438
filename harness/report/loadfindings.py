"""What the report concludes from `load.json`: per load run its totals, whether the load
generator was the bottleneck, the knee it may report, and why the run fails (if it does).

Rules (docs/report.md says them in prose):

- The generator may use at most half of the cores it has (`GENERATOR_LIMIT`). Its CPU is
  read at the knee step (the step's own figure, else the peak of its samples inside the
  step's window); for a run without steps, its mean over the run (its peak is locust's
  own start). At or above the limit, or when the
  load stage itself flagged `generator_saturated`, the generator was the bottleneck: the
  throughput is the generator's, so no knee is reported.
- What makes a run not ready is not decided here: the reasons are the run folder's one
  rule, `LoadRun.broken_promises` (harness/runfolder/load.py), which the load command's
  exit code reads too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.report.labels import fmt
from harness.runfolder import RunData
from harness.runfolder.load import AGGREGATED, Knee, LoadEndpoint, LoadRun, LoadStep

__all__ = [
    "AGGREGATED",
    "GENERATOR_LIMIT",
    "GeneratorLoad",
    "LoadRunFindings",
    "load_findings",
]

GENERATOR_LIMIT = 0.5
MODE_ORDER = ("duration", "iterations", "step", "soak")


@dataclass(frozen=True)
class GeneratorLoad:
    """The generator's CPU where it matters, against what it has (% of one core)."""

    cpu_percent: float
    capacity_percent: float
    where: str

    @property
    def share(self) -> float:
        return self.cpu_percent / self.capacity_percent if self.capacity_percent else 1.0

    @property
    def limit_percent(self) -> float:
        return self.capacity_percent * GENERATOR_LIMIT

    def text(self) -> str:
        cores = self.capacity_percent / 100
        return (
            f"{fmt(self.cpu_percent)}% CPU {self.where} = {self.share:.0%} of its "
            f"{cores:g} core{'s' if cores != 1 else ''} (limit {GENERATOR_LIMIT:.0%})"
        )


@dataclass
class LoadRunFindings:
    run: LoadRun
    total: LoadEndpoint
    generator: GeneratorLoad | None
    generator_limited: bool
    knee: Knee | None
    knee_step: LoadStep | None
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def backend(self) -> str:
        return self.run.backend

    @property
    def judged(self) -> bool:
        return self.run.judged_on_slos

    @property
    def label(self) -> str:
        return f"{self.run.mode} run on {self.run.backend}"


def _knee_step(run: LoadRun) -> LoadStep | None:
    if run.knee is None or run.knee.step is None:
        return None
    return next((s for s in run.steps if s.index == run.knee.step), None)


def _generator(run: LoadRun, step: LoadStep | None) -> GeneratorLoad | None:
    series = next((r for r in run.resources if r.role == "generator"), None)
    capacity = 100.0 * (series.cores_available if series else 1)
    if step is not None:
        where = f"at the knee ({step.users} users, step {step.index})"
        if step.generator_cpu_percent is not None:
            return GeneratorLoad(step.generator_cpu_percent, capacity, where)
        inside = [
            s.cpu_percent
            for s in (series.samples if series else [])
            if step.start_s <= s.t_s <= step.end_s
        ]
        if inside:
            return GeneratorLoad(max(inside), capacity, where)
    if run.steps and any(s.generator_cpu_percent is not None for s in run.steps):
        top = max(run.steps, key=lambda s: s.generator_cpu_percent or 0.0)
        where = f"at its busiest step ({top.users} users, step {top.index})"
        return GeneratorLoad(top.generator_cpu_percent or 0.0, capacity, where)
    if series is None:
        return None
    # over the whole run, as the load command judges it: a peak is locust's own start
    # (imports, the upload images), not the load it generated
    if series.samples:
        mean = sum(s.cpu_percent for s in series.samples) / len(series.samples)
        return GeneratorLoad(mean, capacity, "on average over the run")
    peak = series.peak_cpu_percent
    return None if peak is None else GeneratorLoad(peak, capacity, "at its peak")


def _findings(run: LoadRun) -> LoadRunFindings:
    step = _knee_step(run)
    generator = _generator(run, step)
    limited = run.generator_saturated or (
        generator is not None and generator.share >= GENERATOR_LIMIT
    )
    knee = run.knee if run.knee is not None and run.knee.step is not None else None
    f = LoadRunFindings(
        run=run,
        total=run.total(),
        generator=generator,
        generator_limited=limited,
        knee=None if limited else knee,
        knee_step=None if limited else step,
    )
    if limited:
        figure = f"; {generator.text()}" if generator else ""
        f.notes.append(
            f"load {f.label}: the load generator was the bottleneck{figure}: the throughput is "
            "the generator's limit, not the service's"
            + ("; no knee is reported" if run.mode == "step" else "")
        )
    elif run.mode == "step" and knee is None:
        reason = f" ({run.knee.reason})" if run.knee and run.knee.reason else ""
        f.notes.append(f"load {f.label}: no step held its SLOs, so there is no knee{reason}")
    if run.not_measured:
        f.notes.append(
            f"load {f.label}: not measured (no request in the whole run, so its SLOs were not "
            f"judged): {', '.join(run.not_measured)}; a longer run (--duration) measures it"
        )
    f.reasons += run.broken_promises()
    return f


def load_findings(run: RunData) -> list[LoadRunFindings]:
    """One finding per load run, by mode (duration, iterations, step, soak) then backend."""
    if run.load is None:
        return []
    order = {m: i for i, m in enumerate(MODE_ORDER)}
    runs = sorted(run.load.runs, key=lambda r: (order.get(r.mode, len(order)), r.backend))
    return [_findings(r) for r in runs]
