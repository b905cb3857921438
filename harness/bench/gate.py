"""The benchmark regression gate: pure logic, so a test can prove it fails a slowed run.

pytest-benchmark's own `--benchmark-compare-fail` compares a statistic against a
threshold only; this gate also needs the noise floor: an operation regresses only when it
is slower than the baseline beyond BOTH the threshold and the A/A noise floor (and, with
raw samples on both sides, when the ratio's bootstrap CI excludes 1). The report reads
the same functions, so it lives apart from the `crownsafe-harness bench` command.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from harness.bench import stats

__all__ = [
    "DEFAULT_NOISE_FLOOR",
    "DEFAULT_THRESHOLD",
    "GateRegression",
    "GateResult",
    "aa_noise_floor",
    "find_regressions",
    "samples_by_name",
]

DEFAULT_THRESHOLD = 0.10
DEFAULT_NOISE_FLOOR = 0.05


@dataclass(frozen=True)
class GateRegression:
    name: str
    baseline_median_s: float
    median_s: float
    ratio: float
    reason: str


@dataclass
class GateResult:
    baseline: str
    threshold: float
    noise_floor: float
    compared: int = 0
    regressions: list[GateRegression] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.regressions

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}


def samples_by_name(benchmark_json: Mapping[str, Any]) -> dict[str, list[float]]:
    """Name -> raw samples in seconds (or [median] when the JSON kept no raw data)."""
    out: dict[str, list[float]] = {}
    for entry in benchmark_json.get("benchmarks", []):
        if not isinstance(entry, dict) or not isinstance(entry.get("stats"), dict):
            continue
        st = entry["stats"]
        data = [float(x) for x in st.get("data") or [] if isinstance(x, int | float)]
        if not data and isinstance(st.get("median"), int | float):
            data = [float(st["median"])]
        if data:
            out[str(entry.get("fullname") or entry.get("name"))] = data
    return out


def aa_noise_floor(aa_json: Mapping[str, Any] | None, *, seed: int = 0) -> float | None:
    """The largest A/A noise floor over `bench/aa.json` runs, or None without A/A data."""
    floors = [
        stats.noise_floor(run["first_s"], run["second_s"], seed=seed)
        for run in (aa_json or {}).get("runs", [])
        if isinstance(run, dict) and run.get("first_s") and run.get("second_s")
    ]
    return max(floors) if floors else None


def find_regressions(
    current: Mapping[str, Sequence[float]],
    baseline: Mapping[str, Sequence[float]],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    noise_floor: float = DEFAULT_NOISE_FLOOR,
    baseline_label: str = "",
    seed: int = 0,
) -> GateResult:
    """Operations slower than the baseline beyond the threshold and the noise floor."""
    report = GateResult(baseline_label, threshold, noise_floor)
    rng = np.random.default_rng(seed)
    limit = 1.0 + max(threshold, noise_floor)
    for name in sorted(baseline):
        if name not in current:
            report.missing.append(name)
            continue
        cur, base = current[name], baseline[name]
        report.compared += 1
        ratio = float(np.median(cur) / np.median(base))
        if ratio <= limit:
            continue
        if len(cur) >= 2 and len(base) >= 2:
            result = stats.compare(cur, base, noise_floor, rng=rng)
            if result.verdict != "slower":
                continue
            reason = f"{result.reason}; threshold {threshold:.0%}"
        else:
            reason = (
                f"{ratio - 1:+.1%} beyond threshold {threshold:.0%} and noise floor "
                f"{noise_floor:.1%} (medians only)"
            )
        report.regressions.append(
            GateRegression(name, float(np.median(base)), float(np.median(cur)), ratio, reason)
        )
    return report
