"""Run the checks in order, then always delete this run's probe blobs, even on a signal.

A check whose `needs` did not all pass is skipped and says which one; a check's typed
`StorageError` is a failure with its hint; an unexpected exception is a failure too (named,
redacted), never a crash that would leave probes behind. Every message and hint passes
through the context's redactor before it reaches a result.
"""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

from crownsafe.errors import StorageError
from harness.predeploy.context import Context, Options
from harness.predeploy.endpoints import describe_target
from harness.predeploy.interrupt import Interrupted, signals_deferred, signals_raise
from harness.predeploy.model import (
    Check,
    CheckResult,
    Outcome,
    PredeployResult,
    Status,
    decide_outcome,
    failed,
    skipped,
)
from harness.predeploy.probes import PROBE_PREFIX

__all__ = ["plan", "run_checks", "run_predeploy"]

ResultHook = Callable[[CheckResult], None]


def _error_outcome(exc: Exception) -> Outcome:
    if isinstance(exc, StorageError):
        details = ", ".join(
            f"{key}={value}"
            for key, value in (("status", exc.status), ("code", exc.error_code))
            if value is not None
        )
        where = f"{exc.operation}: " if exc.operation else ""
        return failed(f"{where}{exc.reason}" + (f" ({details})" if details else ""), exc.hint)
    return failed(
        f"unexpected {type(exc).__name__}: {exc}",
        "an answer the check did not expect; run again with the same environment and report it",
    )


def _result(check: Check, outcome: Outcome, ctx: Context, began: float) -> CheckResult:
    return CheckResult(
        id=check.id,
        area=check.area,
        title=check.title,
        status=outcome.status,
        message=ctx.redact(outcome.message),
        hint=ctx.redact(outcome.hint),
        duration_s=round(time.perf_counter() - began, 4),
        writes=check.writes,
    )


def _blocker(check: Check, ctx: Context) -> Outcome | None:
    if any(fnmatch.fnmatchcase(check.id, pattern) for pattern in ctx.options.skip):
        return skipped("skipped by --skip")
    for need in check.needs:
        status = ctx.results[need].status if need in ctx.results else "not run"
        if status != "passed":
            return skipped(f"needs {need} ({status})")
    return None


def run_checks(checks: Sequence[Check], ctx: Context, on_result: ResultHook | None = None) -> bool:
    """Run `checks` into `ctx.results`; True if a fatal check failed (the rest skipped)."""
    fatal = False
    for check in checks:
        began = time.perf_counter()
        outcome = skipped("not tried: the configuration could not be loaded") if fatal else None
        outcome = outcome or _blocker(check, ctx)
        if outcome is None:
            try:
                outcome = check.run(ctx)
            except Exception as exc:
                outcome = _error_outcome(exc)
            fatal = check.fatal and outcome.status == "failed"
        result = _result(check, outcome, ctx, began)
        ctx.results[check.id] = result
        if on_result is not None:
            on_result(result)
    return fatal


def plan(checks: Sequence[Check], skip: Sequence[str] = ()) -> list[CheckResult]:
    """--dry-run: what would run and what it would write; nothing is touched."""
    return [
        CheckResult(
            id=c.id,
            area=c.area,
            title=c.title,
            status="skipped" if any(fnmatch.fnmatchcase(c.id, p) for p in skip) else "planned",
            message=f"{c.title} ({c.writes or 'read-only'})",
            writes=c.writes,
        )
        for c in checks
    ]


def run_predeploy(
    checks: Sequence[Check],
    environ: Mapping[str, str],
    options: Options,
    on_result: ResultHook | None = None,
) -> PredeployResult:
    """The whole run: checks (or the plan), probe clean-up in `finally`, the report."""
    started, began = datetime.now(UTC), time.perf_counter()
    ctx = Context(environ=environ, options=options)
    fatal, signum, left = False, None, []
    try:
        if options.dry_run:
            from harness.predeploy.checks.config import load_settings_quietly

            ctx.settings = load_settings_quietly(environ)
            ctx.results = {r.id: r for r in plan(checks, options.skip)}
        else:
            with signals_raise():
                fatal = run_checks(checks, ctx, on_result)
    except Interrupted as exc:
        signum = exc.signum
        for check in checks:
            if check.id not in ctx.results:
                ctx.results[check.id] = _result(check, skipped(str(exc)), ctx, time.perf_counter())
    finally:
        with signals_deferred():
            client = ctx.fresh_storage() if signum is not None else ctx.storage_if_built()
            if client is not None:
                left = ctx.probes.delete_all(client)
            ctx.close()
    results = [ctx.results[c.id] for c in checks if c.id in ctx.results]
    outcome, code = decide_outcome(
        results, dry_run=options.dry_run, fatal=fatal, interrupted_by=signum, probes_left=len(left)
    )
    counts: dict[Status, int] = {s: 0 for s in ("passed", "failed", "skipped", "planned")}
    for result in results:
        counts[result.status] += 1
    return PredeployResult(
        started_at=started,
        duration_s=round(time.perf_counter() - began, 3),
        backend=ctx.settings.storage_backend if ctx.settings else None,
        target=describe_target(ctx.settings),
        outcome=outcome,
        exit_code=code,
        counts=counts,
        probe_prefix=PROBE_PREFIX,
        probes_left=left,
        checks=results,
    )
