"""Memory growth over a soak: the least-squares slope of sampled RSS, in MiB per hour.

A slope, not last-minus-first: one garbage-collection dip or a late spike moves two points
a lot and a fitted line little. The first `warmup_fraction` of the samples is left out
(caches, pools and the first requests fill memory once; that is not a leak).
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.runfolder.load import ResourceSample, ResourceSeries, SoakResult

__all__ = ["growth_mib_per_hour", "soak_result"]

WARMUP_FRACTION = 0.1
MIN_SAMPLES = 3


def growth_mib_per_hour(
    samples: Sequence[ResourceSample], warmup_fraction: float = WARMUP_FRACTION
) -> float | None:
    """Slope of rss_mib over t_s (ordinary least squares) x 3600; None if < 3 samples."""
    kept = list(samples)[int(len(samples) * warmup_fraction) :]
    if len(kept) < MIN_SAMPLES:
        return None
    n = len(kept)
    mean_t = sum(s.t_s for s in kept) / n
    mean_m = sum(s.rss_mib for s in kept) / n
    var_t = sum((s.t_s - mean_t) ** 2 for s in kept)
    if var_t == 0:
        return None
    cov = sum((s.t_s - mean_t) * (s.rss_mib - mean_m) for s in kept)
    return round(cov / var_t * 3600.0, 3)


def _growth(resources: Sequence[ResourceSeries], role: str) -> float | None:
    for series in resources:
        if series.role == role:
            return growth_mib_per_hour(series.samples)
    return None


def soak_result(
    resources: Sequence[ResourceSeries], duration_s: float, bound_mib_per_h: float
) -> SoakResult:
    """The soak's verdict: passed when every measured growth is at most the bound and the
    app's growth was measured at all (a soak that sampled nothing proves nothing)."""
    app = _growth(resources, "app")
    worker = _growth(resources, "worker")
    measured = [g for g in (app, worker) if g is not None]
    passed = app is not None and all(g <= bound_mib_per_h for g in measured)
    return SoakResult(
        duration_s=round(duration_s, 3),
        app_growth_mib_per_h=app,
        worker_growth_mib_per_h=worker,
        bound_mib_per_h=bound_mib_per_h,
        passed=passed,
    )
