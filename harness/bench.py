"""`crownsafe-harness bench`: run the benchmarks into a run folder, then gate on a baseline.

Profiles: the default "quick" measures objects up to 10 MiB with time-boxed loops (what
`crownsafe-harness run` does, a few minutes on 2 cores); `--full` adds 100 MiB objects,
1,000,000-row migrations and longer overhead loops. The crownsafe-overhead verdicts
(bench/ratios.json, bench/memory.json) are printed at the end.

pytest-benchmark does the timing (`--benchmark-json`, raw samples kept with
`--benchmark-save-data`). Its own `--benchmark-compare-fail` compares a statistic
against a threshold only; our gate also needs the noise floor: an operation regresses
only when it is slower than the baseline beyond BOTH the threshold and the A/A noise
floor (and, with raw samples on both sides, when the ratio's bootstrap CI excludes 1).
The gate is pure logic (`find_regressions`) so a test can prove it fails a slowed run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness import overhead, stats
from harness.rundir import REPORTS_ROOT, resolve_run_dir, write_json

__all__ = [
    "DEFAULT_NOISE_FLOOR",
    "DEFAULT_THRESHOLD",
    "GateRegression",
    "GateReport",
    "aa_noise_floor",
    "find_regressions",
    "main",
    "samples_by_name",
]

DEFAULT_THRESHOLD = 0.10
DEFAULT_NOISE_FLOOR = 0.05
BASELINE_FILE = REPORTS_ROOT / "baseline" / "benchmarks.json"


@dataclass(frozen=True)
class GateRegression:
    name: str
    baseline_median_s: float
    median_s: float
    ratio: float
    reason: str


@dataclass
class GateReport:
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
) -> GateReport:
    """Operations slower than the baseline beyond the threshold and the noise floor."""
    report = GateReport(baseline_label, threshold, noise_floor)
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


def _load_json(path: Path) -> dict[str, Any]:
    target = path / "benchmarks.json" if path.is_dir() else path
    try:
        data = json.loads(target.read_text("utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SystemExit(f"bench: cannot read benchmark JSON {target}: {exc}") from None
    if not isinstance(data, dict):
        raise SystemExit(f"bench: {target} is not pytest-benchmark JSON")
    return data


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="crownsafe-harness bench", description=__doc__)
    p.add_argument("--run-dir", type=Path, help="run folder (default: HARNESS_RUN_DIR or new)")
    p.add_argument(
        "--baseline",
        type=Path,
        help=f"benchmark JSON or run folder (default: {BASELINE_FILE} when present)",
    )
    p.add_argument("--save-baseline", action="store_true", help="store this run as the baseline")
    p.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    p.add_argument("--noise-floor", type=float, help="default: from the run's A/A data, else 0.05")
    p.add_argument("--gate-only", action="store_true", help="do not run; gate the run's JSON")
    p.add_argument("--backends", default="azure,s3")
    p.add_argument(
        "--full",
        action="store_true",
        help="the full profile: adds 100 MiB objects and longer loops (default: quick)",
    )
    p.add_argument(
        "--provision",
        choices=("local", "docker", "external"),
        default=os.environ.get("HARNESS_PROVISION", "local"),
        help="how the benchmark run gets its services (local: its own, Azurite on disk)",
    )
    p.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    return p


def _run_benchmarks(
    run_dir: Path, backends: str, extra: Sequence[str], *, profile: str, provision: str
) -> int:
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "benchmarks",
        "-p",
        "no:xdist",
        "-q",
        f"--backends={backends}",
        f"--provision={provision}",
        f"--bench-profile={profile}",
        "--benchmark-save-data",
        f"--benchmark-json={run_dir / 'benchmarks.json'}",
        *extra,
    ]
    env = {**os.environ, "HARNESS_RUN_DIR": str(run_dir)}
    return subprocess.run(cmd, env=env, check=False).returncode


def main(argv: Sequence[str] | None = None) -> int:
    """Run (unless --gate-only), gate against the baseline, write bench/gate.json."""
    args = _parser().parse_args(argv)
    if args.run_dir is not None:
        args.run_dir.mkdir(parents=True, exist_ok=True)
        os.environ["HARNESS_RUN_DIR"] = str(args.run_dir)
    run_dir: Path = args.run_dir or resolve_run_dir()
    profile = "full" if args.full else "quick"
    status = (
        0
        if args.gate_only
        else _run_benchmarks(
            run_dir, args.backends, args.pytest_args, profile=profile, provision=args.provision
        )
    )
    verdicts = overhead.summary_lines(run_dir)
    if verdicts:
        print("bench: crownsafe overhead (ratio of ops/s [95% CI]) and memory goals:")
        print("\n".join(verdicts))
    if status != 0:
        print(f"bench: pytest exited {status}; see the output above", file=sys.stderr)
        return status
    current = _load_json(run_dir)
    baseline_path: Path | None = args.baseline or (
        BASELINE_FILE if BASELINE_FILE.exists() else None
    )
    if baseline_path is not None:
        aa_path = run_dir / "bench" / "aa.json"
        aa = json.loads(aa_path.read_text("utf-8")) if aa_path.is_file() else None
        floor = args.noise_floor if args.noise_floor is not None else aa_noise_floor(aa)
        report = find_regressions(
            samples_by_name(current),
            samples_by_name(_load_json(baseline_path)),
            threshold=args.threshold,
            noise_floor=floor if floor is not None else DEFAULT_NOISE_FLOOR,
            baseline_label=str(baseline_path),
        )
        write_json(run_dir, "bench/gate.json", report.to_json())
        for reg in report.regressions:
            print(f"REGRESSION {reg.name}: {reg.reason}", file=sys.stderr)
        print(
            f"bench: gate {'passed' if report.passed else 'FAILED'}: {report.compared} "
            f"compared, {len(report.regressions)} regressed (baseline {baseline_path})"
        )
        status = 0 if report.passed else 1
    else:
        print("bench: no baseline yet (use --save-baseline to store this run as one)")
    if args.save_baseline:
        BASELINE_FILE.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(run_dir / "benchmarks.json", BASELINE_FILE)
        print(f"bench: baseline saved to {BASELINE_FILE}")
    print(f"bench: results in {run_dir}")
    return status
