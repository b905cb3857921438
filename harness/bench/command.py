"""`crownsafe-harness bench`: run the benchmarks into a run folder, then gate on a baseline.

Profiles: the default "quick" measures objects up to 10 MiB with time-boxed loops (what
`crownsafe-harness run` does, a few minutes on 2 cores); `--full` adds 100 MiB objects,
1,000,000-row migrations and longer overhead loops. The crownsafe-overhead verdicts
(bench/ratios.json, bench/added_time.json, bench/memory.json) are printed at the end.

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
from harness.report.findings import Verdict
from harness.report.profile import DEFAULT_PROFILE, ProfileError, read_run_profile
from harness.report.verdict import goal_findings, verdict, verdict_lines
from harness.runfolder import (
    RunData,
    latest_run_dir,
    read_run,
    reports_root,
    resolve_run_dir,
    write_file,
)
from harness.runfolder.bench import GateFile
from harness.services.base import PROVISION_MODES
from harness.settings import read_settings
from harness.stopping import Interrupted, exit_status, run_child, stop_on_signals

BENCH_PROFILE = "bench"

__all__ = ["BenchUsageError", "baseline_file", "configure_parser", "main", "register", "run"]


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
        help="do not run; judge an existing run folder (--run-dir, $HARNESS_RUN_DIR, else the "
        "latest under the reports root; never a new one) with the report's verdict: exit 0 "
        "ready, 1 not ready (a benchmark regressed against the baseline, a ratio, memory or "
        "API goal not met, or anything else the report would name), 3 incomplete; the same "
        "verdict and reasons as `report` and `run` give that folder",
    )
    parser.add_argument(
        "--profile",
        default=None,
        help="run profile the verdict is judged by (bundled: default, contract, load, bench; "
        "or a .toml path). Default: default with --gate-only, which judges the whole folder "
        "(as report and run); bench when the benchmarks run here, which judges the benchmark "
        "files they wrote (nothing required, everything measured judged)",
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
    "incomplete / error), exit_code, run_dir, profile (quick / full), ran (false with "
    "--gate-only), "
    "pytest_exit_code (null with --gate-only), gate (null without a baseline, else "
    "baseline, threshold, noise_floor, compared, regressions (name, baseline_median_s, "
    "median_s, ratio, reason), missing, passed), goals (one per goal: kind ratio, "
    "added_time, memory or scrape, backend, operation and size_bytes (not scrape), the "
    "measured value (ratio with ci_low, ci_high, noise_floor; difference_s with ci_low_s, "
    "ci_high_s, noise_floor_s; peak_rss_increase_bytes; or p99_ms with ci_low_ms, "
    "ci_high_ms, scrapes, exposition_bytes, series), the goal (goal, goal_s, goal_bytes or "
    "goal_p99_ms), measured, verdict met / not met / undecided, reason), goals_not_met "
    "(the verdict's goal reasons: ratio, added-time, memory, API and scrape goals), verdict "
    "(outcome ready / not ready / incomplete, exit_code, profile, reasons, missing, notes: "
    "the report's), "
    "problems (result files that did not validate), baseline_saved (path or null), "
    "error (null, or why nothing could be gated); a usage error (no run folder, an unknown "
    "profile) is outcome 'usage error', exit_code 2, error"
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
        except BenchUsageError as exc:
            print(exc, file=sys.stderr)
            if out.enabled:
                out.emit({**document, "outcome": "usage error", "exit_code": 2, "error": str(exc)})
            return 2
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
                outcomes = {0: "passed", 3: "incomplete"}
                document["outcome"] = outcomes.get(status, "failed")
            document["exit_code"] = status
            out.emit(document)
    return status


class BenchUsageError(Exception):
    """Arguments that parse but cannot be used: no run folder to gate, an unknown profile."""


def _gated_run_dir(explicit: Path | None) -> Path:
    """The existing run folder `--gate-only` judges: --run-dir, $HARNESS_RUN_DIR, else the
    latest one. It never makes a folder nor moves `latest`: gating an empty folder it had
    just made judged nothing."""
    named = explicit or read_settings().run_dir
    if named:
        path = Path(named).resolve()
        if not path.is_dir():
            raise BenchUsageError(
                f"bench: --gate-only: {path} is not a run folder (expected "
                "reports/runs/<timestamp>)"
            )
        return path
    latest = latest_run_dir()
    if latest is None:
        raise BenchUsageError(
            f"bench: --gate-only: no run folder under {reports_root() / 'runs'} to gate; pass "
            "--run-dir reports/runs/<timestamp>, or run `crownsafe-harness bench` (or run) first"
        )
    return latest


def _run_and_gate(
    args: argparse.Namespace, document: dict[str, Any], view: StageView | None
) -> int:
    # Usage errors first: a bench that cannot be judged makes no run folder.
    profile_name = args.profile or (DEFAULT_PROFILE if args.gate_only else BENCH_PROFILE)
    try:
        profile = read_run_profile(profile_name)
    except ProfileError as exc:
        raise BenchUsageError(f"bench: {exc}") from None
    run_dir = _gated_run_dir(args.run_dir) if args.gate_only else resolve_run_dir(args.run_dir)
    document["run_dir"] = str(run_dir)
    status = 0
    if not args.gate_only:
        status = _run_benchmarks(
            run_dir,
            ",".join(args.backends),
            args.pytest_args,
            profile=document["profile"],
            provision=args.provision,
            view=view,
        )
        document["pytest_exit_code"] = status
    goals, problems = overhead.goal_records(run_dir)
    document["goals"], document["problems"] = goals, problems
    document["goals_not_met"] = []
    verdicts = overhead.summary_lines(run_dir)
    if verdicts:
        print("bench: crownsafe overhead (ratio of ops/s [95% CI]), memory and scrape goals:")
        print("\n".join(verdicts))
    if status != 0:
        print(f"bench: pytest exited {status}; see the output above", file=sys.stderr)
        return status
    _regression_gate(args, run_dir, document)
    # The verdict is the report's (harness/report/verdict.py), read after the gate wrote
    # bench/gate.json: `report` and `run` judge this folder by the same rules and files.
    # --gate-only judges the whole folder, as they do; a bench run judges what it wrote.
    run = read_run(run_dir)
    judged = verdict(run if args.gate_only else _benchmarks_only(run), profile)
    document["goals_not_met"] = goal_findings(run)[0]
    document["verdict"] = {"exit_code": judged.exit_code, **_verdict_record(judged)}
    for goal in document["goals_not_met"]:
        print(f"GOAL NOT MET {goal}", file=sys.stderr)
    print("\n".join(verdict_lines(judged)))
    if args.save_baseline:
        target = baseline_file()
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(run_dir / "benchmarks.json", target)
        document["baseline_saved"] = str(target)
        print(f"bench: baseline saved to {target}")
    print(f"bench: results in {run_dir}")
    return judged.exit_code


def _benchmarks_only(run: RunData) -> RunData:
    """The folder as far as a bench run wrote it: its benchmark files (and their problems).
    `run`'s benchmarks stage runs bench into the folder its suites wrote first; their
    failures are the run's reasons (its summary and report name them), not this stage's."""
    mine = [
        p
        for p in run.problems
        if p.relative == "benchmarks.json" or p.relative.startswith("bench/")
    ]
    return RunData(path=run.path, bench=run.bench, problems=mine)


def _verdict_record(judged: Verdict) -> dict[str, Any]:
    return {
        "outcome": judged.outcome,
        "profile": judged.profile,
        "reasons": judged.reasons,
        "missing": judged.missing,
        "notes": judged.notes,
    }


def _regression_gate(args: argparse.Namespace, run_dir: Path, document: dict[str, Any]) -> None:
    """Compare the run's benchmarks with the baseline and write bench/gate.json (which the
    verdict reads). A folder without benchmarks.json has nothing to compare, unless a
    --baseline was asked for explicitly (then it is an error, as before)."""
    baseline_path: Path | None = args.baseline or (
        baseline_file() if baseline_file().exists() else None
    )
    if baseline_path is None:
        print("bench: no baseline yet (use --save-baseline to store this run as one)")
        return
    if args.baseline is None and not (run_dir / "benchmarks.json").is_file():
        print(f"bench: {run_dir} holds no benchmarks.json: nothing to compare with the baseline")
        return
    current = _read_json(run_dir)
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


def main(argv: Sequence[str] | None = None) -> int:
    """`crownsafe-harness bench` with its own parser (for `harness.stages` and tests)."""
    parser = argparse.ArgumentParser(prog="crownsafe-harness bench", description=__doc__)
    configure_parser(parser)
    return run(parser.parse_args(argv))
