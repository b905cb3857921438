"""Statistics for side-by-side benchmarks: ratios with confidence, noise floors, verdicts.

A benchmark claim is a ratio of medians with a bootstrap confidence interval, never an
absolute time. A difference is called only when the interval excludes 1 AND the ratio
is further from 1 than the A/A noise floor (the spread seen when one backend is measured
against itself in the same run). The Mann-Whitney U p-value and Cliff's delta are
reported beside it as context.

Randomness is injected (`rng`, or `seed`) so results are reproducible and tests exact.
SciPy is imported by the two functions that call it: it takes about a second to import,
and every `crownsafe-harness` command (even `--help`) imports this module through the
bench gate.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

__all__ = [
    "Comparison",
    "Difference",
    "Estimate",
    "Knee",
    "Percentiles",
    "cliffs_delta",
    "compare",
    "difference_noise_floor",
    "difference_of_medians",
    "effect_magnitude",
    "knee",
    "mann_whitney",
    "median_ci",
    "noise_floor",
    "percentiles",
    "quantile_ci",
    "ratio_of_medians",
]

Difference = Literal["slower", "faster", "same"]
DEFAULT_RESAMPLES = 2000
DEFAULT_CONFIDENCE = 0.95


@dataclass(frozen=True)
class Percentiles:
    """Latency percentiles of one sample set (same unit as the samples)."""

    p50: float
    p90: float
    p99: float
    n: int


@dataclass(frozen=True)
class Estimate:
    """A point estimate with a two-sided bootstrap confidence interval."""

    value: float
    low: float
    high: float
    confidence: float

    def excludes(self, x: float) -> bool:
        return x < self.low or x > self.high


@dataclass(frozen=True)
class Comparison:
    """`a` against `b` (both durations): ratio = median(a) / median(b), > 1 means a slower."""

    ratio: Estimate
    p_value: float
    effect_size: float
    magnitude: str
    noise_floor: float
    verdict: Difference
    reason: str
    n_a: int
    n_b: int


def _rng(rng: np.random.Generator | None, seed: int | None) -> np.random.Generator:
    return rng if rng is not None else np.random.default_rng(seed)


def _array(samples: Sequence[float] | np.ndarray, what: str) -> np.ndarray:
    arr = np.asarray(samples, dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{what}: need a non-empty 1-D sample, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{what}: samples must be finite numbers")
    return arr


def percentiles(samples: Sequence[float] | np.ndarray) -> Percentiles:
    """p50/p90/p99 (linear interpolation, numpy's default)."""
    arr = _array(samples, "percentiles")
    p50, p90, p99 = np.percentile(arr, [50, 90, 99])
    return Percentiles(float(p50), float(p90), float(p99), int(arr.size))


def quantile_ci(
    samples: Sequence[float] | np.ndarray,
    quantile: float,
    *,
    confidence: float = DEFAULT_CONFIDENCE,
) -> tuple[float, float | None, float | None]:
    """The `quantile` (0.99 for p99; numpy's linear interpolation) with a distribution-free
    confidence interval: two order statistics of the sample chosen by the binomial
    distribution (scipy's `quantile_test`), no resampling. A bound the sample is too small
    to give is None: two-sided 95% needs about 470 samples for the upper bound of a p99
    (fewer than about 5 samples lie above it)."""
    arr = _array(samples, "quantile_ci")
    if not 0.0 < quantile < 1.0:
        raise ValueError(f"quantile_ci: quantile must lie in (0, 1), got {quantile}")
    value = float(np.percentile(arr, quantile * 100))
    from scipy import stats as sps

    interval = sps.quantile_test(arr, q=value, p=quantile).confidence_interval(confidence)
    low, high = float(interval.low), float(interval.high)
    return value, (None if math.isnan(low) else low), (None if math.isnan(high) else high)


def _bootstrap(
    data: tuple[np.ndarray, ...],
    statistic: object,
    *,
    paired: bool,
    confidence: float,
    n_resamples: int,
    rng: np.random.Generator,
) -> tuple[float, float]:
    if all(np.ptp(d) == 0 for d in data):
        value = float(statistic(*data, axis=-1))  # type: ignore[operator]
        return value, value
    from scipy import stats as sps

    result = sps.bootstrap(
        data,
        statistic,
        n_resamples=n_resamples,
        paired=paired,
        vectorized=True,
        confidence_level=confidence,
        method="percentile",
        rng=rng,
    )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def median_ci(
    samples: Sequence[float] | np.ndarray,
    *,
    confidence: float = DEFAULT_CONFIDENCE,
    n_resamples: int = DEFAULT_RESAMPLES,
    rng: np.random.Generator | None = None,
    seed: int | None = 0,
) -> Estimate:
    """The median with a percentile-bootstrap confidence interval."""
    arr = _array(samples, "median_ci")

    def stat(x: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.asarray(np.median(x, axis=axis))

    low, high = _bootstrap(
        (arr,),
        stat,
        paired=False,
        confidence=confidence,
        n_resamples=n_resamples,
        rng=_rng(rng, seed),
    )
    return Estimate(float(np.median(arr)), low, high, confidence)


def ratio_of_medians(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    *,
    paired: bool = False,
    confidence: float = DEFAULT_CONFIDENCE,
    n_resamples: int = DEFAULT_RESAMPLES,
    rng: np.random.Generator | None = None,
    seed: int | None = 0,
) -> Estimate:
    """median(a) / median(b) with a bootstrap CI (resampling pairs together if `paired`)."""
    xa, xb = _array(a, "a"), _array(b, "b")
    if paired and xa.size != xb.size:
        raise ValueError(f"paired samples need equal sizes, got {xa.size} and {xb.size}")
    if np.any(xb <= 0) or np.any(xa < 0):
        raise ValueError("ratio_of_medians: durations must be >= 0 (and b > 0)")

    return _of_medians(xa, xb, np.divide, paired, confidence, n_resamples, _rng(rng, seed))


def difference_of_medians(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    *,
    paired: bool = False,
    confidence: float = DEFAULT_CONFIDENCE,
    n_resamples: int = DEFAULT_RESAMPLES,
    rng: np.random.Generator | None = None,
    seed: int | None = 0,
) -> Estimate:
    """median(a) - median(b) with a bootstrap CI (resampling pairs together if `paired`):
    what `a` adds to `b`, in the samples' unit, for a goal stated as an absolute time."""
    xa, xb = _array(a, "a"), _array(b, "b")
    if paired and xa.size != xb.size:
        raise ValueError(f"paired samples need equal sizes, got {xa.size} and {xb.size}")

    return _of_medians(xa, xb, np.subtract, paired, confidence, n_resamples, _rng(rng, seed))


def _of_medians(
    xa: np.ndarray,
    xb: np.ndarray,
    combine: Callable[[Any, Any], Any],
    paired: bool,
    confidence: float,
    n_resamples: int,
    rng: np.random.Generator,
) -> Estimate:
    """combine(median(a), median(b)) with its bootstrap CI (the ratio and the difference)."""

    def stat(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.asarray(combine(np.median(x, axis=axis), np.median(y, axis=axis)))

    low, high = _bootstrap(
        (xa, xb), stat, paired=paired, confidence=confidence, n_resamples=n_resamples, rng=rng
    )
    return Estimate(float(combine(np.median(xa), np.median(xb))), low, high, confidence)


def difference_noise_floor(
    first: Sequence[float] | np.ndarray,
    second: Sequence[float] | np.ndarray,
    *,
    paired: bool = False,
    confidence: float = DEFAULT_CONFIDENCE,
    n_resamples: int = DEFAULT_RESAMPLES,
    rng: np.random.Generator | None = None,
    seed: int | None = 0,
) -> float:
    """The A/A noise floor of a difference: how far from 0 the difference of medians of one
    thing against itself can reach (the largest distance inside its CI, or of the point
    value), in the samples' unit. `noise_floor`'s twin for absolute goals."""
    est = difference_of_medians(
        first,
        second,
        paired=paired,
        confidence=confidence,
        n_resamples=n_resamples,
        rng=rng,
        seed=seed,
    )
    return float(max(abs(est.value), est.high, -est.low, 0.0))


def mann_whitney(
    a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray
) -> tuple[float, float]:
    """Two-sided Mann-Whitney U: (U statistic of `a`, p-value)."""
    xa, xb = _array(a, "a"), _array(b, "b")
    from scipy import stats as sps

    result = sps.mannwhitneyu(xa, xb, alternative="two-sided")
    return float(result.statistic), float(result.pvalue)


def cliffs_delta(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> float:
    """Cliff's delta = P(a > b) - P(a < b), in [-1, 1] (equals the rank-biserial r)."""
    xa, xb = _array(a, "a"), _array(b, "b")
    u, _ = mann_whitney(xa, xb)
    return 2.0 * u / (xa.size * xb.size) - 1.0


def effect_magnitude(delta: float) -> str:
    """Romano et al. (2006) thresholds for |Cliff's delta|."""
    size = abs(delta)
    if size < 0.147:
        return "negligible"
    if size < 0.33:
        return "small"
    if size < 0.474:
        return "medium"
    return "large"


def noise_floor(
    first: Sequence[float] | np.ndarray,
    second: Sequence[float] | np.ndarray,
    *,
    paired: bool = False,
    confidence: float = DEFAULT_CONFIDENCE,
    n_resamples: int = DEFAULT_RESAMPLES,
    rng: np.random.Generator | None = None,
    seed: int | None = 0,
) -> float:
    """The A/A noise floor: how far from 1 the ratio of one thing against itself can reach.

    `first` and `second` are two sample sets of the SAME operation on the SAME backend.
    The floor is the largest relative distance from 1 inside their ratio's CI (or of the
    point ratio, whichever is larger), e.g. 0.04 means "differences under 4% are noise".
    `paired` resamples rounds whole (samples taken in the same interleaved round).
    """
    est = ratio_of_medians(
        first,
        second,
        paired=paired,
        confidence=confidence,
        n_resamples=n_resamples,
        rng=rng,
        seed=seed,
    )
    return float(max(abs(est.value - 1.0), est.high - 1.0, 1.0 - est.low, 0.0))


def compare(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    noise_floor: float,
    *,
    paired: bool = False,
    confidence: float = DEFAULT_CONFIDENCE,
    n_resamples: int = DEFAULT_RESAMPLES,
    rng: np.random.Generator | None = None,
    seed: int | None = 0,
) -> Comparison:
    """Compare durations `a` against `b`: "slower"/"faster" only when the ratio's CI
    excludes 1 and |log ratio| exceeds log(1 + noise_floor); otherwise "same"."""
    if noise_floor < 0 or not math.isfinite(noise_floor):
        raise ValueError(f"noise_floor must be a finite number >= 0, got {noise_floor}")
    xa, xb = _array(a, "a"), _array(b, "b")
    ratio = ratio_of_medians(
        xa,
        xb,
        paired=paired,
        confidence=confidence,
        n_resamples=n_resamples,
        rng=rng,
        seed=seed,
    )
    _, p_value = mann_whitney(xa, xb)
    delta = cliffs_delta(xa, xb)
    beyond_noise = ratio.value > 0 and abs(math.log(ratio.value)) > math.log1p(noise_floor)
    pct = f"{(ratio.value - 1) * 100:+.1f}%"
    ci = f"CI [{ratio.low:.3f}, {ratio.high:.3f}]"
    verdict: Difference
    if not ratio.excludes(1.0):
        verdict, reason = "same", f"{pct}: {ci} includes 1"
    elif not beyond_noise:
        verdict, reason = "same", f"{pct}: within the A/A noise floor of {noise_floor:.1%}"
    else:
        verdict = "slower" if ratio.value > 1 else "faster"
        reason = f"{pct}: {ci} excludes 1 and exceeds the noise floor of {noise_floor:.1%}"
    return Comparison(
        ratio=ratio,
        p_value=p_value,
        effect_size=delta,
        magnitude=effect_magnitude(delta),
        noise_floor=noise_floor,
        verdict=verdict,
        reason=reason,
        n_a=int(xa.size),
        n_b=int(xb.size),
    )


KNEE_SHARE = 0.90
"""The knee is the fewest workers reaching this share of the best throughput seen."""
STILL_GROWING = 0.10
"""A sweep whose last step is its best and gained at least this much over the step before
is still growing: its knee is "not reached"."""


@dataclass(frozen=True)
class Knee:
    """Where a concurrency sweep stops paying: `workers` is the fewest workers reaching 90%
    of the best throughput seen (`best_*`), or None when the sweep was still growing at its
    last step (`reached` False): the capacity lies beyond the sweep."""

    workers: int | None
    throughput: float | None
    best_workers: int
    best_throughput: float
    reached: bool


def knee(
    workers: Sequence[int],
    throughput: Sequence[float],
    share: float = KNEE_SHARE,
    growing: float = STILL_GROWING,
) -> Knee:
    """The fewest workers reaching `share` of the best throughput seen, with the best beside
    it; "not reached" when the last step is the best and gained >= `growing` over the one
    before (a first-step-that-gains-little rule stops at a plateau the sweep climbs out
    of, and a reader takes that knee for the capacity)."""
    if len(workers) != len(throughput) or not workers:
        raise ValueError("knee: need equally long, non-empty workers and throughput")
    points = sorted(zip(workers, throughput, strict=True))
    best_w, best_t = max(points, key=lambda p: (p[1], -p[0]))
    last_w, last_t = points[-1]
    if len(points) > 1 and last_w == best_w and last_t >= points[-2][1] * (1.0 + growing):
        return Knee(None, None, int(best_w), float(best_t), reached=False)
    w, t = next(p for p in points if p[1] >= share * best_t)
    return Knee(int(w), float(t), int(best_w), float(best_t), reached=True)
