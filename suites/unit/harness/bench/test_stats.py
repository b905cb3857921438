"""harness.bench.stats: ratios with bootstrap CIs, Mann-Whitney, Cliff's delta, verdicts, knee."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.bench import stats

samples = st.lists(
    st.floats(min_value=1e-4, max_value=10.0, allow_nan=False), min_size=3, max_size=40
)


def lognormal(rng: np.random.Generator, median: float, n: int = 200, sigma: float = 0.1):
    return rng.lognormal(np.log(median), sigma, n)


def test_percentiles_of_known_sample() -> None:
    p = stats.percentiles(np.arange(1, 101, dtype=float))
    assert (p.p50, p.n) == (50.5, 100)
    assert p.p90 == pytest.approx(90.1)
    assert p.p99 == pytest.approx(99.01)


@given(samples)
def test_percentiles_are_ordered_and_within_range(xs: list[float]) -> None:
    p = stats.percentiles(xs)
    assert min(xs) <= p.p50 <= p.p90 <= p.p99 <= max(xs)


def test_empty_or_nonfinite_samples_are_rejected() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        stats.percentiles([])
    with pytest.raises(ValueError, match="finite"):
        stats.median_ci([1.0, float("nan")])


def test_median_ci_brackets_the_true_median() -> None:
    rng = np.random.default_rng(1)
    est = stats.median_ci(lognormal(rng, 0.050), rng=rng)
    assert est.low <= est.value <= est.high
    assert est.low < 0.050 < est.high


def test_ratio_of_medians_finds_a_known_ratio() -> None:
    rng = np.random.default_rng(2)
    a, b = lognormal(rng, 0.150), lognormal(rng, 0.100)
    est = stats.ratio_of_medians(a, b, rng=rng)
    assert est.value == pytest.approx(1.5, rel=0.05)
    assert est.low < 1.5 < est.high
    assert est.excludes(1.0)


def test_same_seed_same_interval() -> None:
    rng = np.random.default_rng(3)
    a, b = lognormal(rng, 1.0, 50), lognormal(rng, 1.1, 50)
    assert stats.ratio_of_medians(a, b, seed=7) == stats.ratio_of_medians(a, b, seed=7)


def test_paired_ratio_needs_equal_sizes() -> None:
    with pytest.raises(ValueError, match="equal sizes"):
        stats.ratio_of_medians([1.0, 2.0], [1.0], paired=True)


def test_constant_samples_give_a_zero_width_interval() -> None:
    est = stats.ratio_of_medians([2.0] * 10, [1.0] * 10)
    assert (est.value, est.low, est.high) == (2.0, 2.0, 2.0)


def test_difference_of_medians_finds_a_known_difference() -> None:
    rng = np.random.default_rng(4)
    a, b = lognormal(rng, 0.0112, sigma=0.05), lognormal(rng, 0.0100, sigma=0.05)
    est = stats.difference_of_medians(a, b, paired=True, rng=rng)
    assert est.value == pytest.approx(np.median(a) - np.median(b))
    assert est.value == pytest.approx(0.0012, abs=0.0003)
    assert est.low < est.value < est.high and est.excludes(0.0)


def test_paired_difference_needs_equal_sizes() -> None:
    with pytest.raises(ValueError, match="equal sizes"):
        stats.difference_of_medians([1.0, 2.0], [1.0], paired=True)


def test_difference_noise_floor_is_the_farthest_reach_from_zero() -> None:
    """Identical samples: no floor; a second set 2 ms slower throughout: the floor is at
    least those 2 ms (the point and the whole CI sit there)."""
    rng = np.random.default_rng(5)
    a = lognormal(rng, 0.010, sigma=0.05)
    assert stats.difference_noise_floor(a, a, paired=True) == 0.0
    floor = stats.difference_noise_floor(a + 0.002, a, paired=True)
    assert floor == pytest.approx(0.002)
    assert stats.difference_noise_floor(a, a + 0.002, paired=True) == pytest.approx(0.002)


@given(samples, samples)
@settings(max_examples=50, deadline=None)
def test_cliffs_delta_equals_pairwise_definition(a: list[float], b: list[float]) -> None:
    xa, xb = np.array(a)[:, None], np.array(b)[None, :]
    direct = (np.sum(xa > xb) - np.sum(xa < xb)) / (len(a) * len(b))
    delta = stats.cliffs_delta(a, b)
    assert delta == pytest.approx(direct)
    assert -1.0 <= delta <= 1.0
    assert stats.cliffs_delta(b, a) == pytest.approx(-delta)


def test_effect_magnitude_thresholds() -> None:
    labels = [stats.effect_magnitude(d) for d in (0.1, -0.2, 0.4, -0.9)]
    assert labels == ["negligible", "small", "medium", "large"]


def test_mann_whitney_separates_disjoint_samples() -> None:
    u, p = stats.mann_whitney([1.0, 2.0, 3.0, 4.0, 5.0] * 4, [10.0, 11.0, 12.0, 13.0] * 5)
    assert u == 0.0
    assert p < 0.001


def test_compare_calls_a_real_slowdown() -> None:
    rng = np.random.default_rng(4)
    result = stats.compare(lognormal(rng, 0.120), lognormal(rng, 0.100), 0.05, rng=rng)
    assert result.verdict == "slower"
    assert result.ratio.value == pytest.approx(1.2, rel=0.05)
    assert result.p_value < 0.001
    assert result.magnitude == "large"


def test_compare_calls_a_real_speedup() -> None:
    rng = np.random.default_rng(5)
    result = stats.compare(lognormal(rng, 0.080), lognormal(rng, 0.100), 0.05, rng=rng)
    assert result.verdict == "faster"
    assert "excludes 1" in result.reason


def test_compare_says_same_when_interval_includes_one() -> None:
    rng = np.random.default_rng(6)
    a = lognormal(rng, 0.100, 30, sigma=0.3)
    b = lognormal(rng, 0.100, 30, sigma=0.3)
    result = stats.compare(a, b, 0.0, rng=rng)
    assert result.verdict == "same"
    assert "includes 1" in result.reason


def test_compare_says_same_when_within_noise_floor() -> None:
    rng = np.random.default_rng(7)
    a, b = lognormal(rng, 0.103, 2000, 0.02), lognormal(rng, 0.100, 2000, 0.02)
    tight = stats.compare(a, b, 0.0, rng=rng)
    assert tight.verdict == "slower"
    noisy = stats.compare(a, b, 0.10, rng=rng)
    assert noisy.verdict == "same"
    assert "noise floor" in noisy.reason


def test_compare_rejects_negative_noise_floor() -> None:
    with pytest.raises(ValueError, match="noise_floor"):
        stats.compare([1.0], [1.0], -0.1)


def test_noise_floor_of_identical_distributions_is_small_and_grows_with_noise() -> None:
    rng = np.random.default_rng(8)
    quiet = stats.noise_floor(lognormal(rng, 1.0, 400, 0.02), lognormal(rng, 1.0, 400, 0.02))
    loud = stats.noise_floor(lognormal(rng, 1.0, 400, 0.3), lognormal(rng, 1.0, 400, 0.3))
    assert 0.0 <= quiet < 0.02
    assert loud > quiet


@given(samples, st.floats(min_value=0.0, max_value=0.5))
@settings(max_examples=30, deadline=None)
def test_a_sample_is_never_different_from_itself(xs: list[float], floor: float) -> None:
    assert stats.compare(xs, xs, floor, paired=True, n_resamples=200).verdict == "same"


@pytest.mark.parametrize(
    ("workers", "throughput", "knee", "best"),
    [
        ([1, 4, 16, 64], [100.0, 300.0, 320.0, 310.0], 4, 16),  # 300 >= 90% of 320
        ([1, 4, 16, 64], [100.0, 300.0, 600.0, 1000.0], None, 64),  # still growing
        ([1, 4, 16, 64], [100.0, 101.0, 250.0, 300.0], None, 64),  # +20% at the last step
        ([64, 1, 16, 4], [310.0, 100.0, 500.0, 300.0], 16, 16),  # any order
        # issue 20: Azure 1 KiB uploads were "knee at 4 workers" (366 ops/s) though 64
        # workers reached 535; the last step gains under 10%, so the knee is reached
        ([1, 4, 16, 64], [200.0, 366.0, 500.0, 535.0], 16, 64),
        ([1, 4], [100.0, 109.0], 1, 4),  # last step best but gained < 10%: reached
        ([8], [50.0], 8, 8),
    ],
)
def test_knee(workers: list[int], throughput: list[float], knee: int | None, best: int) -> None:
    """The knee is the fewest workers reaching 90% of the best throughput seen; a sweep
    whose last step is its best and still gained >= 10% has not reached it."""
    got = stats.knee(workers, throughput)
    assert got.workers == knee and got.reached == (knee is not None)
    assert got.best_workers == best and got.best_throughput == max(throughput)
    if knee is not None:
        assert got.throughput is not None and got.throughput >= 0.9 * max(throughput)
