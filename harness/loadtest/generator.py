"""Is the load generator the bottleneck? Its CPU per step, and the saturation verdict.

Locust runs each process on one core (gevent): a generator process above ~50 % of a core
already delays its own requests, so latencies it reports grow because of itself, not the
app. The generator's capacity is one core per locust process, at most the machine's cores.
When its CPU at the knee (or over a plain run) is above `SATURATION_FRACTION` of that, the
run says so and its knee is not trusted.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.loadtest.sampling import series_window_mean
from harness.runfolder.load import LoadRun, ResourceSeries

__all__ = ["SATURATION_FRACTION", "apply_generator_cpu", "generator_capacity_percent"]

SATURATION_FRACTION = 0.5


def generator_capacity_percent(processes: int, cores: int) -> float:
    """CPU % the generator can use: one core per locust process, at most `cores`."""
    return 100.0 * max(1, min(processes, cores))


def _generator(resources: Sequence[ResourceSeries]) -> ResourceSeries | None:
    return next((s for s in resources if s.role == "generator"), None)


def apply_generator_cpu(
    run: LoadRun, resources: Sequence[ResourceSeries], *, offset_s: float, processes: int
) -> LoadRun:
    """`run` with each step's `generator_cpu_percent`, `generator_saturated` and a note.

    `offset_s` is when locust's clock started on the sampler's clock (step windows are in
    locust's seconds from start)."""
    series = _generator(resources)
    if series is None or not series.samples:
        note = "the generator's CPU was not sampled: saturation unknown"
        return run.model_copy(update={"notes": [*run.notes, note]})
    capacity = generator_capacity_percent(processes, series.cores_available)
    steps = [
        step.model_copy(
            update={
                "generator_cpu_percent": series_window_mean(
                    series, step.start_s, step.end_s, offset_s=offset_s
                )
            }
        )
        for step in run.steps
    ]
    at_knee = None
    where = "over the run"
    if run.knee is not None and run.knee.step is not None:
        at_knee = next((s.generator_cpu_percent for s in steps if s.index == run.knee.step), None)
        where = f"at the knee (step {run.knee.step})"
    if at_knee is None:
        values = [s.cpu_percent for s in series.samples]
        at_knee = round(sum(values) / len(values), 1)
    saturated = at_knee > SATURATION_FRACTION * capacity
    notes = list(run.notes)
    if saturated:
        what = "the knee is not trustworthy" if run.steps else "latencies may be the generator's"
        notes.append(
            f"load generator saturated: {at_knee:.0f} % CPU {where}, above "
            f"{SATURATION_FRACTION:.0%} of its {capacity:.0f} % ({processes} locust "
            f"process(es), {series.cores_available} cores): {what}; add --processes or "
            "generate load from another machine (--master/--worker)"
        )
    return run.model_copy(update={"steps": steps, "generator_saturated": saturated, "notes": notes})
