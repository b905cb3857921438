"""`crownsafe-harness bench`: run the benchmarks into a run folder, then gate on a baseline.

Profiles: the default "quick" measures objects up to 10 MiB with time-boxed loops (what
`crownsafe-harness run` does, a few minutes on 2 cores); `--full` adds 100 MiB objects,
1,000,000-row migrations and longer overhead loops. The crownsafe-overhead verdicts
(bench/ratios.json, bench/memory.json) are printed at the end.

pytest-benchmark does the timing (`--benchmark-json`, raw samples kept with
`--benchmark-save-data`); the regression gate itself is `harness.bench.gate`.
SIGINT/SIGTERM stop the child pytest, whose teardown stops its services; exit 130/143.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from crownsafe.cli_output import json_stdout
from crownsafe.config import BACKENDS
from harness.bench import overhead
from harness.bench.gate import (
    DEFAULT_NOISE_FLOOR,
    DEFAULT_THRESHOLD,
    aa_noise_floor,
    find_regressions,
    samples_by_name,
)
from harness.commands.arguments import backend_list, non_negative_float
from harness.progress import ReportLogFollower, StageView
from harness.runfolder import reports_root, resolve_run_dir, write_file
from harness.runfolder.bench import GateFile
from harness.services.base import PROVISION_MODES
from harness.settings import read_settings
from harness.stopping import Interrupted, exit_status, run_child, stop_on_signals

__all__ = ["baseline_file", "configure_parser", "main", "register", "run"]


def baseline_file() -> Path:
    """Where `--save-baseline` stores the baseline: <reports root>/baseline/benchmarks.json."""
    return reports_root() / "baseline" / "benchmarks.json"


def _read_json(path: Path) -> dict[str, Any]:
    target = path / "benchmarks.json" if path.is_dir() else path
    try:
        data = json.loads(target.read_text("utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SystemExit(f"bench: cannot read benchmark JSON {target}: {exc}") from None
    if not isinstance(data, dict):
        raise SystemExit(f"bench: {target} is not pytest-benchmark JSON")
    return data


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the bench arguments to `parser` (the sub-command's or `main`'s own)."""
    parser.add_argument(
        "--run-dir", type=Path, help="run folder (default: $HARNESS_RUN_DIR, else a new one)"
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="benchmark JSON or run folder (default: <reports root>/baseline/benchmarks.json "
        "when present)",
    )
    parser.add_argument(
        "--save-baseline", action="store_true", help="store this run as the baseline"
    )
    parser.add_argument(
        "--threshold",
        type=non_negative_float,
        default=DEFAULT_THRESHOLD,
        help=f"slowdown that counts as a regression, beyond the noise floor "
        f"(default {DEFAULT_THRESHOLD})",
    )
    parser.add_argument(
        "--noise-floor",
        type=non_negative_float,
        help=f"default: from the run's A/A data, else {DEFAULT_NOISE_FLOOR}",
    )
    parser.add_argument(
        "--gate-only",
        action="store_true",
        help="do not run; check the run folder's results: exit 1 when a benchmark regressed "
        "against the baseline or a measured goal (bench/ratios.json, bench/memory.json) "
        "was not met; undecided goals do not fail",
    )
    parser.add_argument(
        "--backends",
        type=backend_list,
        default=",".join(BACKENDS),
        help=f"comma-separated backends (default {','.join(BACKENDS)})",
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="the full level: adds 100 MiB objects and longer loops (default: quick)",
    )
    parser.add_argument(
        "--provision",
        choices=PROVISION_MODES,
        default=read_settings().provision,
        help="how the benchmark run gets its services (local: its own, Azurite on disk)",
    )
    parser.add_argument("--json", action="store_true", help=JSON_HELP)
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")


JSON_SCHEMA_VERSION = 1
JSON_HELP = (
    "print one JSON object on stdout at the end, nothing else (the benchmarks' output and "
    "the verdict lines go to stderr). Keys: schema_version (1), outcome (passed / failed / "
    "error), exit_code, run_dir, profile (quick / full), ran (false with --gate-only), "
    "pytest_exit_code (null with --gate-only), gate (null without a baseline, else "
    "baseline, threshold, noise_floor, compared, regressions (name, baseline_median_s, "
    "median_s, ratio, reason), missing, passed), goals (one per goal: kind ratio or "
    "memory, backend, operation, size_bytes, the measured value (ratio with ci_low, "
    "ci_high, noise_floor; or peak_rss_increase_bytes), the goal (goal or goal_bytes), "
    "measured, verdict met / not met / undecided, reason), goals_not_met (messages), "
    "problems (result files that did not validate), baseline_saved (path or null), "
    "error (null, or why nothing could be gated)"
)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `bench` to the `crownsafe-harness` sub-commands."""
    parser = commands.add_parser("bench", help="run and gate the benchmarks", description=__doc__)
    configure_parser(parser)
    parser.set_defaults(handler=_command)


def _command(args: argparse.Namespace) -> int:
    """The sub-command: `run` with a live progress view of the benchmarks on a terminal.
    SIGINT/SIGTERM stop the child pytest (its teardown stops its services): exit 130/143."""
    console = Console(stderr=True)
    try:
        with stop_on_signals():
            return run(args, view=StageView(_stderr_line, console) if console.is_terminal else None)
    except Interrupted as interrupted:
        code = exit_status(interrupted)
        _stderr_line(f"bench: {interrupted}: the benchmark run was stopped (exit {code})")
        return code


def _stderr_line(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _run_benchmarks(
    run_dir: Path,
    backends: str,
    extra: Sequence[str],
    *,
    profile: str,
    provision: str,
    view: StageView | None = None,
) -> int:
    logs = run_dir / "logs"
    report_log = logs / "benchmarks.reportlog.jsonl"
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
        f"--bench-level={profile}",
        f"--run-dir={run_dir}",
        "--benchmark-save-data",
        f"--benchmark-json={run_dir / 'benchmarks.json'}",
        f"--junit-xml={run_dir / 'junit' / 'benchmarks.xml'}",
        *([f"--report-log={report_log}"] if view is not None else []),
        *extra,
    ]
    if view is None:
        return run_child(cmd).returncode
    # On a terminal: one live stage with the counts of benchmarks passed and failed as they
    # come (from pytest's report log); the child's own output goes to logs/benchmarks.log
    # and its tail is shown when it fails.
    logs.mkdir(parents=True, exist_ok=True)
    report_log.unlink(missing_ok=True)
    output = logs / "benchmarks.log"
    with (
        view.stage(1, 1, "benchmarks", f"pytest benchmarks ({profile} level)"),
        ReportLogFollower(report_log, view.counts) as follower,
        output.open("w", encoding="utf-8") as out,
    ):
        code = run_child(cmd, stdout=out, stderr=out).returncode
    view.print_line(f"    benchmarks: {follower.counts.line()} (output: {output})")
    if code != 0:
        tail = output.read_text("utf-8", errors="replace").splitlines()[-40:]
        view.print_line("\n".join(["    --- last lines of " + str(output), *tail]))
    return code


def run(args: argparse.Namespace, view: StageView | None = None) -> int:
    """Run (unless --gate-only), gate against the baseline, write bench/gate.json; with
    `args.json` print the result as one JSON object (see JSON_HELP) and nothing else."""
    with json_stdout(getattr(args, "json", False)) as out:
        document: dict[str, Any] = {
            "schema_version": JSON_SCHEMA_VERSION,
            "profile": "full" if args.full else "quick",
            "ran": not args.gate_only,
            "pytest_exit_code": None,
            "gate": None,
            "baseline_saved": None,
            "error": None,
        }
        try:
            status = _run_and_gate(args, document, view)
        except SystemExit as exc:
            if not out.enabled:
                raise
            document["error"] = str(exc.code)
            print(exc.code, file=sys.stderr)
            status = 1
        if out.enabled:
            pytest_code = document["pytest_exit_code"]
            if document["error"] is not None or (pytest_code or 0) >= 2:
                document["outcome"] = "error"
            else:
                document["outcome"] = "failed" if status else "passed"
            document["exit_code"] = status
            out.emit(document)
    return status


def _run_and_gate(
    args: argparse.Namespace, document: dict[str, Any], view: StageView | None
) -> int:
    run_dir = resolve_run_dir(args.run_dir)
    document["run_dir"] = str(run_dir)
    profile = document["profile"]
    status = 0
    if not args.gate_only:
        status = _run_benchmarks(
            run_dir,
            ",".join(args.backends),
            args.pytest_args,
            profile=profile,
            provision=args.provision,
            view=view,
        )
        document["pytest_exit_code"] = status
    goals, problems = overhead.goal_records(run_dir)
    document["goals"], document["problems"] = goals, problems
    document["goals_not_met"] = []
    verdicts = overhead.summary_lines(run_dir)
    if verdicts:
        print("bench: crownsafe overhead (ratio of ops/s [95% CI]) and memory goals:")
        print("\n".join(verdicts))
    if status != 0:
        print(f"bench: pytest exited {status}; see the output above", file=sys.stderr)
        return status
    current = _read_json(run_dir)
    baseline_path: Path | None = args.baseline or (
        baseline_file() if baseline_file().exists() else None
    )
    if baseline_path is not None:
        aa_path = run_dir / "bench" / "aa.json"
        aa = json.loads(aa_path.read_text("utf-8")) if aa_path.is_file() else None
        floor = args.noise_floor if args.noise_floor is not None else aa_noise_floor(aa)
        report = find_regressions(
            samples_by_name(current),
            samples_by_name(_read_json(baseline_path)),
            threshold=args.threshold,
            noise_floor=floor if floor is not None else DEFAULT_NOISE_FLOOR,
            baseline_label=str(baseline_path),
        )
        write_file(run_dir, GateFile.model_validate(report.to_json()))
        document["gate"] = report.to_json()
        for reg in report.regressions:
            print(f"REGRESSION {reg.name}: {reg.reason}", file=sys.stderr)
        print(
            f"bench: gate {'passed' if report.passed else 'FAILED'}: {report.compared} "
            f"compared, {len(report.regressions)} regressed (baseline {baseline_path})"
        )
        status = 0 if report.passed else 1
    else:
        print("bench: no baseline yet (use --save-baseline to store this run as one)")
    missed = overhead.goals_not_met(run_dir)
    document["goals_not_met"] = missed
    for goal in missed:
        print(f"GOAL NOT MET {goal}", file=sys.stderr)
    if missed:
        print(f"bench: {len(missed)} measured goal(s) not met")
        status = 1
    if args.save_baseline:
        target = baseline_file()
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(run_dir / "benchmarks.json", target)
        document["baseline_saved"] = str(target)
        print(f"bench: baseline saved to {target}")
    print(f"bench: results in {run_dir}")
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """`crownsafe-harness bench` with its own parser (for `harness.stages` and tests)."""
    parser = argparse.ArgumentParser(prog="crownsafe-harness bench", description=__doc__)
    configure_parser(parser)
    return run(parser.parse_args(argv))
