"""The locust-aware glue: the `--crownsafe-*` arguments, the step shape, the quit hook.

On the master (or the local runner) only: at init the SLO file is read (an invalid one
ends the run with exit code 2 and a message naming the key) and, with
`--crownsafe-steps`, the `StepShape` is installed. At quit every SLO is evaluated on
locust's own stats entries (percentiles from their response-time histograms), per step
too; breaches are printed one per line; the `LoadRun` summary is written; and
`environment.process_exit_code` is set (see README.md for the codes).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gevent  # type: ignore[import-untyped]
import locust.runners
from locust import events
from locust.env import Environment
from locust.runners import MasterRunner, Runner, WorkerRunner
from locust.stats import RequestStats, StatsEntry, calculate_response_time_percentile

from harness.runfolder.load import LoadRun, LoadStep, SloResult
from load.evaluate import EndpointStats, breach_lines, endpoint_key, evaluate_run
from load.histogram import EntrySnapshot, window_stats
from load.recorder import StepRecorder
from load.scenarios.base import token_settings
from load.shape import StepShape
from load.slo_file import SloFileError, SloSet, load_slo_file
from load.steps import (
    StepError,
    StepWindow,
    coverage_notes,
    find_knee,
    parse_steps,
    plan_steps,
)
from load.summary import endpoint_records, history_points, judge_steps, step_verdict

__all__ = ["entry_stats", "snapshot_all"]

log = logging.getLogger("crownsafe.load")
DEFAULT_SLO_FILE = Path(__file__).resolve().parent / "slos.toml"
MODES = ("duration", "iterations", "soak", "step")

# Workers report to the master every second instead of 3 s: step windows lag less.
locust.runners.WORKER_REPORT_INTERVAL = 1.0
# The master drops a worker after this many missed 1 s heartbeats (locust: 3). On a
# machine busy with the app under test a worker can be starved of CPU for a few seconds
# while it spawns users; with 3 the master gave up on both workers and ended the test.
locust.runners.HEARTBEAT_LIVENESS = 15


@dataclass
class _Run:
    slos: SloSet | None = None
    plan: list[StepWindow] = field(default_factory=list)
    recorder: StepRecorder | None = None
    started: float | None = None
    stopped: float | None = None


_RUN = _Run()


def _arguments(parser: Any) -> None:
    group = parser.add_argument_group("crownsafe", "Crown Safe load suite (load/README.md)")
    group.add_argument(
        "--crownsafe-backend",
        default=os.environ.get("STORAGE_BACKEND", "unknown"),
        help="storage backend under test, recorded in the summary",
    )
    group.add_argument(
        "--crownsafe-slo-file", default=str(DEFAULT_SLO_FILE), help="the SLO file (TOML)"
    )
    group.add_argument("--crownsafe-summary", default="", help="write the LoadRun JSON here")
    group.add_argument(
        "--crownsafe-mode", default="", choices=["", *MODES], help="mode recorded in the summary"
    )
    group.add_argument("--crownsafe-steps", default="", help="step load: user counts, e.g. 5,10")
    group.add_argument("--crownsafe-step-seconds", type=float, default=15.0)
    group.add_argument("--crownsafe-step-warmup", type=float, default=3.0)
    group.add_argument("--crownsafe-min-knee-users", type=int, default=0)
    group.add_argument(
        "--crownsafe-user-base",
        type=int,
        default=int(time.time()) * 10_000_000,
        help="first virtual user id (default: from the clock, so runs on one database "
        "never share a user id)",
    )


def _fail_setup(message: str) -> None:
    log.error(message)
    print(message, file=sys.stderr)
    sys.exit(2)


def snapshot_all(stats: RequestStats) -> dict[str, EntrySnapshot]:
    """Every stats entry and the total, as plain cumulative snapshots."""
    entries: list[StatsEntry] = [*stats.entries.values(), stats.total]
    return {
        endpoint_key(e.method or "", e.name): EntrySnapshot(
            method=e.method or "",
            name=e.name,
            requests=e.num_requests,
            failures=e.num_failures,
            none_requests=e.num_none_requests,
            response_times=dict(e.response_times),
        )
        for e in entries
    }


def entry_stats(entry: StatsEntry) -> EndpointStats:
    """One entry's whole-run statistics: percentiles from locust's own histogram."""
    timed = entry.num_requests - entry.num_none_requests

    def pct(percent: float) -> float | None:
        return float(entry.get_response_time_percentile(percent)) if timed > 0 else None

    return EndpointStats(
        method=entry.method or "",
        name=entry.name,
        requests=entry.num_requests,
        failures=entry.num_failures,
        rps=float(entry.total_rps or 0.0),
        p50_ms=pct(0.5),
        p95_ms=pct(0.95),
        p99_ms=pct(0.99),
        max_ms=float(entry.max_response_time) if timed > 0 else None,
    )


def _is_worker(runner: Runner | None) -> bool:
    return isinstance(runner, WorkerRunner)


def _init(environment: Environment, runner: Runner | None = None, **_: Any) -> None:
    if not _is_worker(runner):
        _setup_master(environment, runner)


def _setup_master(environment: Environment, runner: Runner | None) -> None:
    options = _options(environment)
    if options.crownsafe_user_base < 1:
        _fail_setup("--crownsafe-user-base must be a positive user id")
    try:
        token_settings()
    except RuntimeError as exc:
        _fail_setup(str(exc))
    try:
        _RUN.slos = load_slo_file(Path(options.crownsafe_slo_file))
    except SloFileError as exc:
        _fail_setup(f"invalid SLO file: {exc}")
    if not options.crownsafe_steps:
        return
    try:
        users = parse_steps(options.crownsafe_steps)
        _RUN.plan = plan_steps(users, options.crownsafe_step_seconds, options.crownsafe_step_warmup)
    except StepError as exc:
        _fail_setup(str(exc))
    stats = environment.stats
    _RUN.recorder = StepRecorder(
        _RUN.plan, lambda: snapshot_all(stats), StepShape.clock, gevent.sleep
    )
    spawn_rate = float(options.spawn_rate or max(users))
    shape = StepShape(_RUN.plan, spawn_rate, _RUN.recorder)
    shape.runner = runner
    environment.shape_class = shape


def _test_start(environment: Environment, **_: Any) -> None:
    if not _is_worker(environment.runner) and _RUN.started is None:
        _RUN.started = time.time()


def _test_stop(environment: Environment, **_: Any) -> None:
    if not _is_worker(environment.runner):
        _RUN.stopped = time.time()


def _steps(slos: SloSet, notes: list[str]) -> tuple[list[LoadStep], list[SloResult]]:
    recorder = _RUN.recorder
    if recorder is None:
        return [], []
    windows = [
        (
            recorded.window,
            {
                key: window_stats(snap, recorded.seconds, calculate_response_time_percentile)
                for key, snap in recorded.entries.items()
            },
        )
        for recorded in recorder.steps
    ]
    missing = len(_RUN.plan) - len(recorder.steps)
    if missing:
        notes.append(f"{missing} of {len(_RUN.plan)} steps were not completed (run ended early)")
    return judge_steps(windows, slos)


def _processes(environment: Environment) -> int:
    if isinstance(environment.runner, MasterRunner):
        return max(1, int(_options(environment).expect_workers or 1))
    return 1


def build_summary(environment: Environment) -> tuple[LoadRun, list[str]]:
    """The `LoadRun` of this run and the breach lines to print."""
    options = _options(environment)
    slos = _RUN.slos or SloSet(endpoints={}, defaults=())
    stats = environment.stats
    overall = {s.key: s for s in (entry_stats(e) for e in [*stats.entries.values(), stats.total])}
    notes: list[str] = []
    whole = evaluate_run(slos.for_endpoints(k for k, s in overall.items() if s.requests), overall)
    results = whole.results
    steps, step_results = _steps(slos, notes)
    notes += coverage_notes(steps, _RUN.plan, {k: s.requests for k, s in overall.items()})
    knee = find_knee(steps, step_results) if _RUN.plan else None
    if knee is not None:
        passed, verdict_notes = step_verdict(knee, options.crownsafe_min_knee_users, results)
        notes += verdict_notes
    else:
        passed = all(r.passed for r in results)
    if whole.not_measured and knee is None:
        notes.append(
            "not measured (no request in the whole run, so its SLOs were not judged): "
            f"{', '.join(whole.not_measured)}; a longer run (--duration) measures it"
        )
    if not stats.total.num_requests:
        passed = False
        notes.append("no request was made: nothing was measured, so nothing passed")
    started = _RUN.started or stats.start_time
    stopped = _RUN.stopped or time.time()
    mode = options.crownsafe_mode or ("step" if _RUN.plan else "duration")
    run = LoadRun(
        backend=options.crownsafe_backend,
        mode=mode,
        host=environment.host or options.host or "",
        users=max(w.users for w in _RUN.plan) if _RUN.plan else options.num_users,
        spawn_rate=(
            environment.shape_class.spawn_rate
            if isinstance(environment.shape_class, StepShape)
            else options.spawn_rate
        ),
        duration_s=round(max(0.0, stopped - started), 3),
        processes=_processes(environment),
        passed=passed,
        endpoints=endpoint_records(overall.values()),
        slos=step_results if knee is not None else results,
        history=history_points(stats.history, started),
        steps=steps,
        knee=knee,
        notes=notes,
        not_measured=whole.not_measured if knee is None else [],
    )
    if knee is None:
        return run, breach_lines(results)
    return run, [*breach_lines(step_results), *notes, f"knee: {knee.reason}"]


def _write(path: Path, run: LoadRun) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(run.model_dump_json(indent=2) + "\n", "utf-8")
    tmp.replace(path)


def _quitting(environment: Environment, **_: Any) -> None:
    if _is_worker(environment.runner):
        return
    run, lines = build_summary(environment)
    for line in lines:
        print(line, file=sys.stderr)
    verdict = "passed" if run.passed else "FAILED"
    print(f"crownsafe load ({run.backend}, {run.mode}): {verdict}", file=sys.stderr)
    code = 0 if run.passed else 1
    target = _options(environment).crownsafe_summary
    if target:
        try:
            _write(Path(target), run)
        except OSError as exc:
            print(f"cannot write the summary {target}: {exc}", file=sys.stderr)
            code = 2
    environment.process_exit_code = code


def _options(environment: Environment) -> Any:
    """The parsed command line (always set when locust runs a locustfile)."""
    options = environment.parsed_options
    if options is None:
        raise RuntimeError("load.hooks needs locust's parsed options (run it with `locust -f`)")
    return options


# locust's EventHook.add_listener is untyped
events.init_command_line_parser.add_listener(_arguments)  # type: ignore[no-untyped-call]
events.init.add_listener(_init)  # type: ignore[no-untyped-call]
events.test_start.add_listener(_test_start)  # type: ignore[no-untyped-call]
events.test_stop.add_listener(_test_stop)  # type: ignore[no-untyped-call]
events.quitting.add_listener(_quitting)  # type: ignore[no-untyped-call]
