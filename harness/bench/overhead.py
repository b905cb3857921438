"""What crownsafe costs, as verdicts: ops/s ratios against a goal, and peak RSS.

Pure logic for `benchmarks/test_bench_overhead.py` (which measures) and the report
(which shows): turns interleaved samples into `bench/ratios.json` entries and a memory
probe's numbers into `bench/memory.json` entries, each with a goal and a verdict.

Ratio: ops/s of the candidate over ops/s of the reference, i.e. median time of the
reference / median time of the candidate (above 1: the candidate is faster), with a 95%
bootstrap CI that resamples whole rounds (both samples of a round stay together, so
drift during the loop cancels). Noise floor: the same statistic for the A/A pair (the
raw SDK call against itself on a second client, in the same loop):
`harness.bench.stats.noise_floor`, the largest distance from 1 its CI reaches.

Goal verdict, for a goal g (0.95 = "at least 95% of the reference's ops/s", i.e. at
most 5% cost), point estimate r, CI [low, high] and noise floor f. The one rule, used by
the bench gate, the console summary and the report alike (`goal_verdict`, and `decide`
/ `judged` for entries already in a run folder, so an entry written under an older rule
is judged by this one wherever it is read):

- "not met": high < g - f. Below the goal by more than the noise, at 95% confidence.
- "undecided" (floor): f >= 1 - g. When identical clients differ by as much as the whole
  margin the goal allows, the run cannot resolve the goal.
- "met": r >= g and low >= g - f. The point estimate reaches the goal, and at 95%
  confidence the ratio is not below the goal by more than what this run can tell apart
  from nothing (two identical clients already differ by up to f).
- "undecided" (point estimate below goal): low >= g - f but r < g. A ratio measured
  below its goal is never "met", however close: the CI only says it may not be worse.
- "undecided": anything else (the CI straddles g - f, or the run was a smoke run of a few
  rounds under --benchmark-disable, which is never a verdict).

Added-time verdict, for a goal stated as a time the candidate may add to the reference's
median (issue 21: "at most 1 ms to a small request's p50"): the same rules mirrored, on
the difference d = median(candidate) - median(reference) with its CI [low, high] and the
A/A floor f in seconds (`added_time_verdict`, `decide_added`): "not met" when
low > g + f; "undecided" when f >= g; "met" when d <= g and high <= g + f; a point
estimate above g is never "met"; anything else is "undecided".

Memory verdict: a streamed upload of S bytes must raise the process's peak RSS by less
than S (issue 2: 64 MiB). "met"/"not met" for measured runs; a smoke run (small S under
--benchmark-disable) is "undecided".

The console lines and goal records also carry `bench/scrape.json`'s metrics-scrape goal
(p99 < 50 ms), judged by its own rule, `ScrapePoint.decide`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.bench import stats
from harness.runfolder import RunFileError, read_file
from harness.runfolder.bench import (
    AddedTime,
    AddedTimeFile,
    GoalVerdict,
    MemoryFile,
    MemoryPoint,
    OverheadRatio,
    RatiosFile,
    ScrapeFile,
    ScrapePoint,
)

__all__ = [
    "COMPARISONS",
    "GoalDecision",
    "RatioGoal",
    "TimeGoal",
    "added_time_entry",
    "added_time_verdict",
    "decide",
    "decide_added",
    "goal_verdict",
    "goals_not_met",
    "judged",
    "judged_added",
    "memory_entry",
    "ratio_entry",
    "summary_lines",
]


@dataclass(frozen=True)
class RatioGoal:
    """One ratio the benchmarks report: candidate against reference, with its goal."""

    name: str
    candidate: str
    reference: str
    goal: float
    goal_source: str


@dataclass(frozen=True)
class TimeGoal:
    """One added time the benchmarks report: candidate's median minus reference's, with
    the most it may add (`goal_s`, seconds)."""

    name: str
    candidate: str
    reference: str
    goal_s: float
    goal_source: str


COMPARISONS = (
    RatioGoal("crownsafe_vs_raw", "crownsafe", "raw", 0.95, "issue 2: >= 0.95x the raw SDK"),
    RatioGoal("resilient_vs_bare", "resilient", "crownsafe", 0.98, "issue 19: <= 2% cost"),
)


@dataclass(frozen=True)
class GoalDecision:
    verdict: GoalVerdict
    reason: str


def goal_verdict(
    ratio: stats.Estimate, goal: float, noise_floor: float, *, measured: bool = True
) -> GoalDecision:
    """The verdict for one ratio (see the module docstring for the rules)."""
    where = f"{ratio.value:.3f}x, CI [{ratio.low:.3f}, {ratio.high:.3f}]"
    bar = goal - noise_floor
    if not measured:
        return GoalDecision("undecided", f"{where}: smoke run, a plumbing check only")
    if ratio.high < bar:
        return GoalDecision(
            "not met", f"{where}: CI high < goal {goal:g} - noise floor {noise_floor:.1%}"
        )
    if round(noise_floor, 9) >= round(1 - goal, 9):
        return GoalDecision(
            "undecided",
            f"{where}: A/A noise floor {noise_floor:.1%} is not below the {1 - goal:.0%} "
            "the goal allows; this run cannot resolve the goal",
        )
    if ratio.low >= bar and ratio.value < goal:
        return GoalDecision(
            "undecided",
            f"{where}: point estimate below goal {goal:g} (CI low >= goal - noise floor "
            f"{noise_floor:.1%} = {bar:.3f}, so not shown to miss it either)",
        )
    if ratio.low >= bar:
        return GoalDecision(
            "met",
            f"{where}: >= goal {goal:g} and CI low >= goal {goal:g} - noise floor "
            f"{noise_floor:.1%}",
        )
    return GoalDecision("undecided", f"{where}: CI straddles goal - noise floor = {bar:.3f}")


def decide(entry: OverheadRatio) -> GoalDecision:
    """The verdict for one stored `bench/ratios.json` entry, by today's rule (not the
    verdict written into the file, which an older harness may have decided otherwise)."""
    estimate = stats.Estimate(entry.ratio, entry.ci_low, entry.ci_high, entry.confidence)
    return goal_verdict(estimate, entry.goal, entry.noise_floor, measured=entry.measured)


def judged(entries: Sequence[OverheadRatio]) -> list[OverheadRatio]:
    """`entries` with their verdict and reason from `decide`: what every reader of
    `bench/ratios.json` (bench gate, console summary, report) works from."""
    out = []
    for entry in entries:
        decision = decide(entry)
        out.append(
            entry.model_copy(update={"verdict": decision.verdict, "reason": decision.reason})
        )
    return out


def added_time_verdict(
    difference: stats.Estimate, goal_s: float, noise_floor_s: float, *, measured: bool = True
) -> GoalDecision:
    """The verdict for one added time (seconds; rules in the module docstring)."""
    ms = 1000.0
    where = (
        f"{difference.value * ms:+.3f} ms, CI [{difference.low * ms:+.3f}, "
        f"{difference.high * ms:+.3f}]"
    )
    bar = goal_s + noise_floor_s
    goal, floor = f"{goal_s * ms:g} ms", f"{noise_floor_s * ms:.3f} ms"
    if not measured:
        return GoalDecision("undecided", f"{where}: smoke run, a plumbing check only")
    if difference.low > bar:
        return GoalDecision("not met", f"{where}: CI low > goal {goal} + noise floor {floor}")
    if round(noise_floor_s, 12) >= round(goal_s, 12):
        return GoalDecision(
            "undecided",
            f"{where}: A/A noise floor {floor} is not below the {goal} the goal allows; "
            "this run cannot resolve the goal",
        )
    if difference.high <= bar and difference.value > goal_s:
        return GoalDecision(
            "undecided",
            f"{where}: point estimate above goal {goal} (CI high <= goal + noise floor "
            f"{floor} = {bar * ms:.3f} ms, so not shown to miss it either)",
        )
    if difference.high <= bar:
        return GoalDecision(
            "met", f"{where}: <= goal {goal} and CI high <= goal {goal} + noise floor {floor}"
        )
    return GoalDecision(
        "undecided", f"{where}: CI straddles goal + noise floor = {bar * ms:.3f} ms"
    )


def decide_added(entry: AddedTime) -> GoalDecision:
    """The verdict for one stored `bench/added_time.json` entry, by today's rule."""
    estimate = stats.Estimate(entry.difference_s, entry.ci_low_s, entry.ci_high_s, entry.confidence)
    return added_time_verdict(estimate, entry.goal_s, entry.noise_floor_s, measured=entry.measured)


def judged_added(entries: Sequence[AddedTime]) -> list[AddedTime]:
    """`entries` with their verdict and reason from `decide_added` (as `judged`)."""
    out = []
    for entry in entries:
        decision = decide_added(entry)
        out.append(
            entry.model_copy(update={"verdict": decision.verdict, "reason": decision.reason})
        )
    return out


def _rounded(samples: Sequence[float]) -> list[float]:
    return [float(f"{s:.7g}") for s in samples]


def ratio_entry(
    comparison: RatioGoal,
    samples: Mapping[str, Sequence[float]],
    aa: tuple[str, str],
    *,
    backend: str,
    operation: str,
    size_bytes: int,
    warmup: int,
    measured: bool,
    seed: int = 0,
) -> dict[str, Any]:
    """One `bench/ratios.json` entry from one interleaved loop's samples (seconds)."""
    candidate, reference = samples[comparison.candidate], samples[comparison.reference]
    first, second = samples[aa[0]], samples[aa[1]]
    ratio = stats.ratio_of_medians(reference, candidate, paired=True, seed=seed)
    aa_ratio = stats.ratio_of_medians(first, second, paired=True, seed=seed)
    floor = stats.noise_floor(first, second, paired=True, seed=seed)
    verdict = goal_verdict(ratio, comparison.goal, floor, measured=measured)
    return {
        "backend": backend,
        "operation": operation,
        "size_bytes": size_bytes,
        "comparison": comparison.name,
        "candidate": comparison.candidate,
        "reference": comparison.reference,
        "goal": comparison.goal,
        "goal_source": comparison.goal_source,
        "measured": measured,
        "rounds": len(candidate),
        "warmup": warmup,
        "candidate_median_s": stats.percentiles(candidate).p50,
        "reference_median_s": stats.percentiles(reference).p50,
        "ratio": ratio.value,
        "ci_low": ratio.low,
        "ci_high": ratio.high,
        "confidence": ratio.confidence,
        "aa": f"{aa[0]} vs {aa[1]}",
        "aa_ratio": aa_ratio.value,
        "noise_floor": floor,
        "verdict": verdict.verdict,
        "reason": verdict.reason,
        "candidate_s": _rounded(candidate),
        "reference_s": _rounded(reference),
        "aa_first_s": _rounded(first),
        "aa_second_s": _rounded(second),
    }


def added_time_entry(
    goal: TimeGoal,
    samples: Mapping[str, Sequence[float]],
    aa: tuple[str, str],
    *,
    backend: str,
    operation: str,
    size_bytes: int | None,
    warmup: int,
    measured: bool,
    seed: int = 0,
) -> dict[str, Any]:
    """One `bench/added_time.json` entry from one interleaved loop's samples (seconds)."""
    candidate, reference = samples[goal.candidate], samples[goal.reference]
    first, second = samples[aa[0]], samples[aa[1]]
    difference = stats.difference_of_medians(candidate, reference, paired=True, seed=seed)
    aa_difference = stats.difference_of_medians(first, second, paired=True, seed=seed)
    floor = stats.difference_noise_floor(first, second, paired=True, seed=seed)
    verdict = added_time_verdict(difference, goal.goal_s, floor, measured=measured)
    return {
        "backend": backend,
        "operation": operation,
        "size_bytes": size_bytes,
        "comparison": goal.name,
        "candidate": goal.candidate,
        "reference": goal.reference,
        "goal_s": goal.goal_s,
        "goal_source": goal.goal_source,
        "measured": measured,
        "rounds": len(candidate),
        "warmup": warmup,
        "candidate_median_s": stats.percentiles(candidate).p50,
        "reference_median_s": stats.percentiles(reference).p50,
        "difference_s": difference.value,
        "ci_low_s": difference.low,
        "ci_high_s": difference.high,
        "confidence": difference.confidence,
        "aa": f"{aa[0]} vs {aa[1]}",
        "aa_difference_s": aa_difference.value,
        "noise_floor_s": floor,
        "verdict": verdict.verdict,
        "reason": verdict.reason,
        "candidate_s": _rounded(candidate),
        "reference_s": _rounded(reference),
        "aa_first_s": _rounded(first),
        "aa_second_s": _rounded(second),
    }


def memory_entry(
    probe: Mapping[str, Any], *, backend: str, size_bytes: int, measured: bool
) -> dict[str, Any]:
    """One `bench/memory.json` entry from `harness.bench.memprobe`'s output."""
    increase = int(probe["peak_rss_increase_bytes"])
    verdict: GoalVerdict
    if not measured:
        verdict, reason = "undecided", "smoke run (small object): a plumbing check only"
    elif increase < size_bytes:
        verdict, reason = "met", f"+{increase / 2**20:.1f} MiB < {size_bytes / 2**20:g} MiB"
    else:
        verdict, reason = "not met", f"+{increase / 2**20:.1f} MiB >= {size_bytes / 2**20:g} MiB"
    return {
        "backend": backend,
        "operation": "upload",
        "impl": "crownsafe",
        "source": "file (streamed)",
        "size_bytes": size_bytes,
        "baseline_rss_bytes": int(probe["baseline_rss_bytes"]),
        "peak_rss_bytes": int(probe["peak_rss_bytes"]),
        "peak_rss_increase_bytes": increase,
        "method": str(probe["method"]),
        "goal_bytes": size_bytes,
        "measured": measured,
        "verdict": verdict,
        "reason": reason,
    }


@dataclass(frozen=True)
class _Measured:
    """This run's goals, judged, and the files that did not validate."""

    ratios: list[OverheadRatio]
    added: list[AddedTime]
    memory: list[MemoryPoint]
    scrapes: list[ScrapePoint]
    problems: list[RunFileError]


def _measured_files(run_dir: Path) -> _Measured:
    """This run's overhead ratios, added times, memory points and metrics scrapes (each
    judged by today's rule), and the files that did not validate."""
    problems: list[RunFileError] = []

    def read(
        model: type[RatiosFile] | type[AddedTimeFile] | type[MemoryFile] | type[ScrapeFile],
    ) -> RatiosFile | AddedTimeFile | MemoryFile | ScrapeFile | None:
        if not (run_dir / model.FILE).is_file():
            return None
        try:
            return read_file(run_dir, model.FILE, model)
        except RunFileError as problem:
            problems.append(problem)
            return None

    ratios, added, memory = read(RatiosFile), read(AddedTimeFile), read(MemoryFile)
    scrape = read(ScrapeFile)
    scrapes = []
    for point in scrape.points if isinstance(scrape, ScrapeFile) else []:
        verdict, reason = point.decide()
        scrapes.append(point.model_copy(update={"verdict": verdict, "reason": reason}))
    return _Measured(
        judged(ratios.comparisons) if isinstance(ratios, RatiosFile) else [],
        judged_added(added.comparisons) if isinstance(added, AddedTimeFile) else [],
        memory.points if isinstance(memory, MemoryFile) else [],
        scrapes,
        problems,
    )


def _size(size_bytes: int | None) -> str:
    if size_bytes is None:
        return ""
    return f" {size_bytes // 2**20} MiB" if size_bytes >= 2**20 else f" {size_bytes // 1024} KiB"


def summary_lines(run_dir: Path) -> list[str]:
    """Plain-text lines for the console: every ratio, added-time, memory and scrape
    verdict of the run."""
    run = _measured_files(run_dir)
    lines = [f"  {problem}" for problem in run.problems]
    for e in run.ratios:
        lines.append(
            f"  [{e.backend}] {e.operation}{_size(e.size_bytes)} {e.candidate}/{e.reference} "
            f"ops/s: {e.reason}; goal >= {e.goal}: {e.verdict.upper()}"
        )
    for a in run.added:
        lines.append(
            f"  [{a.backend}] {a.operation}{_size(a.size_bytes)} {a.candidate} - {a.reference} "
            f"median: {a.reason}; goal <= +{a.goal_s * 1000:g} ms: {a.verdict.upper()}"
        )
    for m in run.memory:
        lines.append(
            f"  [{m.backend}] {m.size_bytes // 2**20} MiB streamed upload, "
            f"peak RSS {m.reason}: {m.verdict.upper()}"
        )
    for p in run.scrapes:
        lines.append(
            f"  [{p.backend}] /metrics scrape under load: {p.reason}; goal p99 < "
            f"{p.goal_p99_ms:g} ms: {p.verdict.upper()}"
        )
    return lines


def goals_not_met(run_dir: Path) -> list[str]:
    """Every measured goal of the run that was not met (undecided goals are not counted:
    the noise floor left them open, which the report shows with the floor)."""
    run = _measured_files(run_dir)
    missed = [f"{problem} (its goals cannot be checked)" for problem in run.problems]
    missed += [
        f"[{e.backend}] {e.operation} {e.size_bytes} B {e.comparison}: {e.reason}"
        for e in run.ratios
        if e.measured and e.verdict == "not met"
    ]
    missed += [
        f"[{a.backend}] {a.operation}{_size(a.size_bytes)} {a.comparison}: {a.reason}"
        for a in run.added
        if a.measured and a.verdict == "not met"
    ]
    missed += [
        f"[{m.backend}] memory {m.size_bytes} B: {m.reason}"
        for m in run.memory
        if m.measured and m.verdict == "not met"
    ]
    missed += [
        f"[{p.backend}] metrics scrape p99: {p.reason}"
        for p in run.scrapes
        if p.measured and p.verdict == "not met"
    ]
    return missed


_RATIO_KEYS = (
    "backend",
    "operation",
    "size_bytes",
    "comparison",
    "candidate",
    "reference",
    "goal",
    "ratio",
    "ci_low",
    "ci_high",
    "confidence",
    "noise_floor",
    "measured",
    "verdict",
    "reason",
)
_ADDED_KEYS = (
    "backend",
    "operation",
    "size_bytes",
    "comparison",
    "candidate",
    "reference",
    "goal_s",
    "difference_s",
    "ci_low_s",
    "ci_high_s",
    "confidence",
    "noise_floor_s",
    "measured",
    "verdict",
    "reason",
)
_SCRAPE_KEYS = (
    "backend",
    "p99_ms",
    "ci_low_ms",
    "ci_high_ms",
    "confidence",
    "goal_p99_ms",
    "scrapes",
    "exposition_bytes",
    "series",
    "measured",
    "verdict",
    "reason",
)
_MEMORY_KEYS = (
    "backend",
    "operation",
    "size_bytes",
    "peak_rss_increase_bytes",
    "goal_bytes",
    "measured",
    "verdict",
    "reason",
)


def goal_records(run_dir: Path) -> tuple[list[dict[str, object]], list[str]]:
    """Every goal of the run as a JSON-ready record (`kind` "ratio", "added_time",
    "memory" or "scrape", the measured value, the goal, the verdict; no raw samples), and
    the files that did not validate (as messages)."""
    run = _measured_files(run_dir)
    records: list[dict[str, object]] = [
        {"kind": "ratio", **{k: getattr(e, k) for k in _RATIO_KEYS}} for e in run.ratios
    ]
    records += [
        {"kind": "added_time", **{k: getattr(a, k) for k in _ADDED_KEYS}} for a in run.added
    ]
    records += [{"kind": "memory", **{k: getattr(m, k) for k in _MEMORY_KEYS}} for m in run.memory]
    records += [{"kind": "scrape", **{k: getattr(p, k) for k in _SCRAPE_KEYS}} for p in run.scrapes]
    return records, [str(problem) for problem in run.problems]
