"""The stages of `crownsafe-harness run`, in order, sharing one run folder.

bootstrap check -> services (started once, in parallel) -> suites (pytest on the suites the
run profile names, pointed at those services with --provision external) -> benchmarks
(`crownsafe-harness bench`, quick level: its own services, Azurite on disk) -> load
(`crownsafe-harness load`, a short plain run per backend on its own stack, 20 s) -> alerts
(`crownsafe-harness alerts`, the outage drill per backend) -> cutover -> report
-> summary ending with the report's path. A later stage is one more `Stage` in `STAGES`;
`--stages` picks which run.
"""

from __future__ import annotations

import importlib
import json
import shlex
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crownsafe.config import BACKENDS
from harness.progress import SUMMARY_COLUMNS, ReportLogFollower, StageView, summary
from harness.report import analyse, build_report, read_inputs, verdict_lines
from harness.report.findings import Verdict
from harness.report.profile import DEFAULT_PROFILE, read_run_profile
from harness.runfolder import read_run, write_file
from harness.runfolder.summary import RunSummaryFile, StageRecord, StagesFile, SuiteRow
from harness.services.base import ProvisionMode, ServiceStartError
from harness.services.provision import ProvisionedServices, build_service, start_services
from harness.settings import process_environment
from harness.stopping import Interrupted, run_child, signals_held

__all__ = [
    "DEFAULT_STAGES",
    "STAGES",
    "RunContext",
    "Stage",
    "StageOutcome",
    "StageResult",
    "run_stages",
    "suite_paths",
    "summary_rows",
    "summary_table",
]

MIGRATION_SUITE = "suites/migration"


def suite_paths(run_profile: str | None, backends: list[str]) -> tuple[str, ...]:
    """The suites a run covers: those its run profile requires (`[[suites]]`, the one list
    of them), as `suites/<name>`; the migration suite needs both backends (S3 -> Azure)."""
    profile = read_run_profile(run_profile or DEFAULT_PROFILE)
    both = set(BACKENDS) <= set(backends)
    paths = (f"suites/{suite.name}" for suite in profile.suites)
    return tuple(p for p in paths if both or p != MIGRATION_SUITE)


def _service_names(ctx: RunContext) -> list[str]:
    """The backends' emulators, plus PostgreSQL when the migration suite runs."""
    backends = ctx.backends
    if MIGRATION_SUITE in suite_paths(ctx.run_profile, backends):
        return [*backends, "postgres"]
    return backends


OUTCOMES = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")


@dataclass
class StageResult:
    ok: bool
    detail: str = ""


@dataclass
class RunContext:
    root: Path
    run_dir: Path
    backends: list[str]
    mode: ProvisionMode
    workers: int = 2
    pytest_args: list[str] = field(default_factory=list)
    bench_level: str = "quick"
    run_profile: str | None = None
    services: ProvisionedServices | None = None
    report_path: Path | None = None
    verdict: Verdict | None = None
    print: Callable[[str], None] = print
    view: StageView | None = None
    outcomes: list[StageOutcome] = field(default_factory=list)

    def child_env(self) -> dict[str, str]:
        env = {**process_environment(), "HARNESS_RUN_DIR": str(self.run_dir)}
        if self.services is not None:
            env.update(self.services.harness_env())
        return env


@dataclass(frozen=True)
class Stage:
    name: str
    description: str
    run: Callable[[RunContext], StageResult]


def _bootstrap(ctx: RunContext) -> StageResult:
    problems: list[str] = []
    for name in _service_names(ctx):
        check = getattr(build_service(name, ctx.mode), "check_prerequisites", None)
        try:
            if callable(check):
                check()
        except ServiceStartError as exc:
            problems.append(str(exc))
    for module in ("crownsafe.storage.azure", "crownsafe.storage.s3", "xdist"):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            problems.append(f"{module} cannot be imported ({exc}). Fix: run `make bootstrap`")
    return StageResult(not problems, "\n".join(problems) or "tools and packages present")


def _services(ctx: RunContext) -> StageResult:
    # A signal while they start waits until `ctx.services` holds them: whatever stops the
    # run (run_stages' finally) then stops them too.
    with signals_held():
        ctx.services = start_services(
            _service_names(ctx),
            ctx.mode,
            log_dir=ctx.run_dir / "logs" / "services",
            on_ready=lambda t: ctx.print(f"    {t.name} ready in {t.ready_s:.2f} s ({t.endpoint})"),
        )
    ctx.services.write(ctx.run_dir)
    return StageResult(True, f"all ready in {ctx.services.parallel_ready_s:.2f} s")


def _pytest(ctx: RunContext, argv: list[str], what: str, name: str) -> StageResult:
    """Run pytest in a child process; count its tests as they come from its report log.

    On a live terminal view the child's output goes to `logs/<name>.log` (its tail is
    shown when it fails); otherwise it streams to this process's output as it comes."""
    logs = ctx.run_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    report_log = logs / f"{name}.reportlog.jsonl"
    report_log.unlink(missing_ok=True)
    command = [sys.executable, "-m", "pytest", *argv, "-p", "no:locust"]
    command.append(f"--report-log={report_log}")
    ctx.print("    $ " + shlex.join(command[2:]))
    live = ctx.view is not None and ctx.view.live
    output = logs / f"{name}.log"
    on_update = ctx.view.counts if ctx.view is not None else (lambda counts: None)
    with ReportLogFollower(report_log, on_update) as follower:
        if live:
            with output.open("w", encoding="utf-8") as out:
                code = run_child(
                    command, cwd=ctx.root, env=ctx.child_env(), stdout=out, stderr=out
                ).returncode
        else:
            code = run_child(command, cwd=ctx.root, env=ctx.child_env()).returncode
    ctx.print(f"    tests: {follower.counts.line()}")
    if live and code != 0:
        tail = output.read_text("utf-8", errors="replace").splitlines()[-40:]
        ctx.print("\n".join(["    --- last lines of " + str(output), *tail]))
    if code == 5:
        return StageResult(False, f"no tests were collected in {what} (pytest exit 5)")
    return StageResult(code == 0, f"pytest exit {code}")


def _suites(ctx: RunContext) -> StageResult:
    wanted = suite_paths(ctx.run_profile, ctx.backends)
    paths = [p for p in wanted if (ctx.root / p).is_dir()]
    if not paths:
        named = ", ".join(wanted) or "no suite"
        return StageResult(False, f"the run profile names {named}; none exists under {ctx.root}")
    argv = [*paths, "-q", "-rfE", f"--backends={','.join(ctx.backends)}"]
    # Locally, each xdist worker starts its own emulators, as in `make test`: the targets
    # (Azurite, moto, LocalStack for the SAS promises) and their known-gaps files are
    # then the ones the suites know. Otherwise the child uses the services started above.
    child_mode = "local" if ctx.mode == "local" else "external"
    argv += [f"--provision={child_mode}", f"--run-dir={ctx.run_dir}"]
    argv += [f"--junit-xml={ctx.run_dir / 'junit' / 'suites.xml'}"]
    if ctx.workers > 0:
        argv += ["-n", str(ctx.workers), "--dist", "loadgroup"]
    return _pytest(ctx, [*argv, *ctx.pytest_args], " ".join(paths), "suites")


def _benchmarks(ctx: RunContext) -> StageResult:
    try:
        from harness.bench.command import main as bench_main
    except ImportError as exc:
        return StageResult(False, f"harness.bench.command is not available ({exc})")
    argv = ["--run-dir", str(ctx.run_dir), "--backends", ",".join(ctx.backends)]
    argv += ["--provision", ctx.mode] + (["--full"] if ctx.bench_level == "full" else [])
    code = bench_main(argv)
    return StageResult(code == 0, f"bench exit {code} ({ctx.bench_level} level)")


LOAD_STAGE_ARGS = ("--duration", "20s", "--users", "10", "--spawn-rate", "10")
"""The load stage's run: 20 s per backend at 10 users (modest: the machine also runs the
stack; from 10 users on every scenario family of load/ has a user); the engineers' longer
runs are `crownsafe-harness load` itself (docs/load.md)."""


def _load(ctx: RunContext) -> StageResult:
    """`crownsafe-harness load` in a child process (locust must never share this one):
    writes load.json and load/<backend>/duration/ into the run folder."""
    logs = ctx.run_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "harness.cli", "load", "--run-dir", str(ctx.run_dir)]
    for backend in ctx.backends:
        command += ["--backend", backend]
    command += [*LOAD_STAGE_ARGS, "--json"]
    ctx.print("    $ " + shlex.join(["crownsafe-harness", *command[3:]]))
    output = logs / "load.log"
    with output.open("w", encoding="utf-8") as err:
        done = run_child(
            command, cwd=ctx.root, env=ctx.child_env(), stdout=subprocess.PIPE, stderr=err
        )
    try:
        breaches = [str(b) for b in json.loads(done.stdout).get("breaches", [])]
    except (json.JSONDecodeError, AttributeError):
        breaches = []
    for line in breaches:
        ctx.print(f"    {line}")
    if done.returncode not in (0, 1):
        tail = output.read_text("utf-8", errors="replace").splitlines()[-30:]
        ctx.print("\n".join(["    --- last lines of " + str(output), *tail]))
    meaning = {0: "every SLO held", 1: f"{len(breaches)} breach(es)", 3: "could not run"}
    detail = f"load exit {done.returncode} ({meaning.get(done.returncode, 'see logs/load.log')})"
    return StageResult(done.returncode == 0, detail)


def _alerts(ctx: RunContext) -> StageResult:
    """`crownsafe-harness alerts` in a child process (its own services, app, worker and
    Prometheus per backend): writes alerts.json into the run folder."""
    logs = ctx.run_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "harness.cli", "alerts", "--run-dir", str(ctx.run_dir)]
    command += ["--backends", ",".join(ctx.backends)]
    ctx.print("    $ " + shlex.join(["crownsafe-harness", *command[3:]]))
    output = logs / "alerts.log"
    with output.open("w", encoding="utf-8") as out:
        done = run_child(command, cwd=ctx.root, env=ctx.child_env(), stdout=out, stderr=out)
    for line in output.read_text("utf-8", errors="replace").splitlines()[-14:]:
        ctx.print(f"    {line}")
    meaning = {0: "every fault raised its alerts, none on the clean load", 1: "not ready"}
    meaning[3] = "could not run"
    detail = f"alerts exit {done.returncode} ({meaning.get(done.returncode, 'see logs')})"
    return StageResult(done.returncode == 0, detail)


CUTOVER_OBJECTS = 2000
"""Legacy objects the run's cut-over drill seeds (`crownsafe-harness cutover --objects`)."""


def _cutover(ctx: RunContext) -> StageResult:
    """`crownsafe-harness cutover` in a child process (it runs locust and its own stack):
    writes cutover.json into the run folder."""
    if not set(BACKENDS) <= set(ctx.backends):
        return StageResult(True, "skipped: the cut-over drill needs both backends")
    logs = ctx.run_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "harness.cli", "cutover", "--run-dir", str(ctx.run_dir)]
    command += ["--objects", str(CUTOVER_OBJECTS)]
    ctx.print("    $ " + shlex.join(["crownsafe-harness", *command[3:]]))
    output = logs / "cutover.log"
    with output.open("w", encoding="utf-8") as out:
        done = run_child(command, cwd=ctx.root, env=ctx.child_env(), stdout=out, stderr=out)
    for line in output.read_text("utf-8", errors="replace").splitlines()[-12:]:
        ctx.print(f"    {line}")
    meaning = {0: "nothing lost, no failed request", 1: "not ready", 3: "could not run"}
    detail = f"cutover exit {done.returncode} ({meaning.get(done.returncode, 'see logs')})"
    return StageResult(done.returncode == 0, detail)


def _report(ctx: RunContext) -> StageResult:
    report = build_report(ctx.run_dir, profile=ctx.run_profile)
    ctx.report_path, ctx.verdict = report.path, report.findings.verdict
    return StageResult(True, f"report written to {ctx.report_path}")


STAGES: dict[str, Stage] = {
    s.name: s
    for s in (
        Stage("bootstrap", "check tools and packages", _bootstrap),
        Stage("services", "start the services in parallel", _services),
        Stage("suites", "the suites the run profile names (pytest)", _suites),
        Stage("benchmarks", "benchmarks (pytest-benchmark, no xdist)", _benchmarks),
        Stage("load", "short locust load per backend (crownsafe-harness load)", _load),
        Stage("alerts", "outage drill: alert rules seen firing by a real Prometheus", _alerts),
        Stage("cutover", "live S3 -> Azure cut-over drill under load", _cutover),
        Stage("report", "render the HTML report", _report),
    )
}
DEFAULT_STAGES = (
    "bootstrap",
    "services",
    "suites",
    "benchmarks",
    "load",
    "alerts",
    "cutover",
    "report",
)


def summary_rows(run_dir: Path) -> list[dict[str, Any]]:
    """One row per suite x backend with outcome counts, from the run's suites/*.json
    (an xfailed test is counted as a "known gap", the name the report gives it)."""
    rows: list[dict[str, Any]] = []
    for suite in read_run(run_dir).suites:
        counts: dict[str, dict[str, int]] = {}
        for test in suite.tests:
            per = counts.setdefault(test.backend or "-", dict.fromkeys(OUTCOMES, 0))
            per[test.outcome] = per.get(test.outcome, 0) + 1
        for backend in sorted(counts):
            per = dict(counts[backend])
            per["known gap"] = per.pop("xfailed")  # the report's one name for an xfail
            rows.append({"suite": suite.suite, "backend": backend, **per})
    return rows


def summary_table(rows: list[dict[str, Any]]) -> str:
    columns = SUMMARY_COLUMNS
    table = [list(columns)] + [[str(r.get(c, 0)) for c in columns] for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(columns))]
    lines = [
        "  ".join(
            cell.ljust(w) if i < 2 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        )
        for line in table
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


@dataclass(frozen=True)
class StageOutcome:
    name: str
    ok: bool
    seconds: float
    detail: str


def _run_one(ctx: RunContext, stage: Stage) -> StageResult:
    try:
        return stage.run(ctx)
    except ServiceStartError as exc:
        return StageResult(False, str(exc))
    except Exception as exc:
        ctx.print(traceback.format_exc(limit=-3).rstrip())
        return StageResult(False, f"{type(exc).__name__}: {exc}")


def run_stages(ctx: RunContext, names: list[str]) -> int:
    """Run the named stages in order (bootstrap or services failing stops the run); print
    the summary, then the verdict as the last lines before the report's path; return the
    verdict's exit code (1 when a stage failed).

    `Interrupted` (a signal, see harness.stopping) ends the stage that runs, after its
    child has stopped; the services are stopped and the exception goes to the caller."""
    view = ctx.view or StageView(ctx.print)
    failed = False
    try:
        for index, name in enumerate(names, 1):
            stage = STAGES[name]
            began = time.perf_counter()
            try:
                with view.stage(index, len(names), name, stage.description):
                    result = _run_one(ctx, stage)
            except Interrupted as interrupted:
                took = time.perf_counter() - began
                ctx.print(f"<== {name} INTERRUPTED after {took:.2f} s: {interrupted}")
                raise
            took = time.perf_counter() - began
            ctx.outcomes.append(StageOutcome(name, result.ok, round(took, 3), result.detail))
            _record_stages(ctx)
            status = "ok" if result.ok else "FAILED"
            ctx.print(f"<== {name} {status} in {took:.2f} s: {result.detail}")
            if not result.ok:
                failed = True
                if name in ("bootstrap", "services"):
                    break
    finally:
        if ctx.services is not None:
            ctx.services.stop()
            ctx.services = None
    rows = summary_rows(ctx.run_dir)
    if rows and view.live and view.console is not None:
        summary(rows, view.console)
    elif rows:
        ctx.print("\nResults per suite and backend:\n" + summary_table(rows))
    ctx.print(f"\nrun folder: {ctx.run_dir}")
    verdict = ctx.verdict or analyse(read_inputs(ctx.run_dir, profile=ctx.run_profile)).verdict
    ctx.verdict = verdict
    if failed:
        ctx.print("a stage failed: see its output above")
    for line in verdict_lines(verdict):
        ctx.print(line)
    if ctx.report_path is not None:
        ctx.print(f"report: {ctx.report_path}")
    code = verdict.exit_code
    write_file(ctx.run_dir, _summary(ctx, verdict, rows, code))
    return code


def _record_stages(ctx: RunContext) -> None:
    """stages.json after each stage: the judge names a failed stage (one verdict for the
    report stage, `report` and `bench --gate-only` later, and the summary)."""
    records = [StageRecord(**vars(o)) for o in ctx.outcomes]
    write_file(ctx.run_dir, StagesFile(stages=records))


def _summary(
    ctx: RunContext, verdict: Verdict, rows: list[dict[str, Any]], code: int
) -> RunSummaryFile:
    return RunSummaryFile(
        outcome=verdict.outcome,
        exit_code=code,
        profile=verdict.profile,
        reasons=verdict.reasons,
        missing=verdict.missing,
        stages=[StageRecord(**vars(o)) for o in ctx.outcomes],
        suites=[SuiteRow(**{k.replace(" ", "_"): v for k, v in row.items()}) for row in rows],
        run_dir=str(ctx.run_dir),
        report=str(ctx.report_path) if ctx.report_path else None,
    )
