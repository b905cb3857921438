"""What the run assessed against what its profile requires: one `AssessedItem` per item.

An item is *assessed* on a backend when results for it exist there (tests that ran and were
not all skipped, resilience cells, measured benchmark goals); it *passed* when none of
them failed. Missing results are "not assessed", never "passed".
"""

from __future__ import annotations

from harness.report.findings import AssessedItem, ItemStatus
from harness.report.labels import (
    fmt,
    memory_label,
    ordered_ratios,
    row_label,
    scrape_label,
    scrape_points,
    size_label,
)
from harness.report.loadfindings import LoadRunFindings, load_findings
from harness.report.profile import RunProfile, SuiteRequirement
from harness.runfolder import RunData
from harness.runfolder.bench import ApiBenchResult
from harness.runfolder.suites import FAILED_OUTCOMES

__all__ = ["assess"]

_RAN = frozenset({"passed", "failed", "error", "xfailed", "xpassed"})


def _status(required: tuple[str, ...], assessed: tuple[str, ...], failed: bool) -> ItemStatus:
    if failed:
        return "failed"
    if not assessed or any(b not in assessed for b in required):
        return "not assessed"
    return "passed"


def _suite(run: RunData, need: SuiteRequirement) -> AssessedItem:
    label = f"{need.name} suite"
    suite = next((s for s in run.suites if s.suite == need.name), None)
    if suite is None:
        return AssessedItem(label, tuple(need.backends), (), "not assessed", "did not run")
    ran = [t for t in suite.tests if t.outcome in _RAN]
    assessed = tuple(sorted({t.backend or "-" for t in ran}))
    if not need.backends:
        assessed = ("any",) if ran else ()
    failed = [t for t in suite.tests if t.outcome in FAILED_OUTCOMES]
    detail = f"{len(ran)} tests ran, {len(failed)} failed"
    if skipped := sum(1 for t in suite.tests if t.outcome == "skipped"):
        detail += f", {skipped} skipped"
    if gaps := sum(1 for t in suite.tests if t.outcome == "xfailed"):
        detail += f", {gaps} known gap{'s' if gaps != 1 else ''}"
    required = tuple(need.backends) or ("any",)
    return AssessedItem(
        label, tuple(need.backends), assessed, _status(required, assessed, bool(failed)), detail
    )


def _resilience(run: RunData, backends: list[str]) -> AssessedItem:
    label = "resilience under faults (0 lost, attempts bounded)"
    res = run.resilience
    if res is None:
        return AssessedItem(label, tuple(backends), (), "not assessed", "no resilience.json")
    assessed = tuple(sorted({c.backend for c in res.cells}))
    bound = res.summary.attempts_bound
    over = bool(bound) and res.summary.max_attempts_per_call > bound
    failed_checks = [c for c in res.checks if not c.passed]
    failed = bool(res.lost) or over or bool(failed_checks)
    detail = (
        f"{len(res.cells)} cells, {res.lost} lost, max {res.summary.max_attempts_per_call} attempts"
    )
    return AssessedItem(
        label, tuple(backends), assessed, _status(tuple(backends), assessed, failed), detail
    )


def tally(total: int, not_met: list[str], undecided: list[str], noun: str = "met") -> str:
    """ "7 of 8 met; not met: Azure Upload 1 KiB 0.904x; undecided: ...": how many, and
    which ones were not met or left undecided (a summary that names neither is no use)."""
    met = total - len(not_met) - len(undecided)
    parts = [f"{met} of {total} {noun}"]
    if not_met:
        parts.append("not met: " + ", ".join(not_met))
    if undecided:
        parts.append("undecided: " + ", ".join(undecided))
    return "; ".join(parts)


def _goal(
    run: RunData, comparison: str, backends: list[str], undecided_fails: bool
) -> AssessedItem:
    entries = [r for r in ordered_ratios(run) if r.comparison == comparison and r.measured]
    label = (
        f"benchmark goal {comparison} (>= {entries[0].goal:g}x)"
        if entries
        else f"benchmark goal {comparison}"
    )
    assessed = tuple(sorted({r.backend for r in entries}))
    verdicts = {r.verdict for r in entries}
    failed = "not met" in verdicts or (undecided_fails and "undecided" in verdicts)
    status = _status(tuple(backends), assessed, failed)
    if status == "passed" and "undecided" in verdicts:
        status = "undecided"
    detail = (
        tally(
            len(entries),
            [f"{row_label(r)} {r.ratio:.3f}x" for r in entries if r.verdict == "not met"],
            [
                f"{row_label(r)} {r.ratio:.3f}x (floor {r.noise_floor:.1%})"
                for r in entries
                if r.verdict == "undecided"
            ],
        )
        if entries
        else "not measured (smoke or absent)"
    )
    return AssessedItem(label, tuple(backends), assessed, status, detail)


def _memory(run: RunData, backends: list[str], undecided_fails: bool) -> AssessedItem:
    points = [p for p in run.bench.memory if p.measured]
    assessed = tuple(sorted({p.backend for p in points}))
    verdicts = {p.verdict for p in points}
    failed = "not met" in verdicts or (undecided_fails and "undecided" in verdicts)
    status = _status(tuple(backends), assessed, failed)
    if status == "passed" and "undecided" in verdicts:
        status = "undecided"
    detail = (
        tally(
            len(points),
            [f"{memory_label(p)} {p.reason}" for p in points if p.verdict == "not met"],
            [f"{memory_label(p)} {p.reason}" for p in points if p.verdict == "undecided"],
        )
        + "".join(f"; met: {memory_label(p)} {p.reason}" for p in points if p.verdict == "met")
        if points
        else "not measured (smoke or absent)"
    )
    return AssessedItem(
        "memory goal: streamed upload RSS below its size", tuple(backends), assessed, status, detail
    )


def _scrape(run: RunData, backends: list[str], undecided_fails: bool) -> AssessedItem:
    points = [p for p in scrape_points(run) if p.measured]
    assessed = tuple(sorted({p.backend for p in points}))
    verdicts = {p.verdict for p in points}
    failed = "not met" in verdicts or (undecided_fails and "undecided" in verdicts)
    status = _status(tuple(backends), assessed, failed)
    if status == "passed" and "undecided" in verdicts:
        status = "undecided"
    detail = (
        tally(
            len(points),
            [f"{scrape_label(p)} {p.reason}" for p in points if p.verdict == "not met"],
            [f"{scrape_label(p)} {p.reason}" for p in points if p.verdict == "undecided"],
        )
        + "".join(f"; met: {scrape_label(p)} {p.reason}" for p in points if p.verdict == "met")
        if points
        else "not measured (smoke or absent)"
    )
    return AssessedItem(
        "metrics scrape under load: p99 < 50 ms", tuple(backends), assessed, status, detail
    )


def _api(run: RunData, backends: list[str]) -> AssessedItem:
    goals = [
        r
        for r in run.bench.api
        if r.measured and (r.test == "upload_vs_direct" or r.goal_met is not None)
    ]
    assessed = tuple(sorted({r.backend for r in goals}))
    missed = [r for r in goals if r.missed_goals()]
    detail = tally(len(goals), [_api_name(r) for r in missed], []) if goals else "not measured"
    return AssessedItem(
        "API goals: upload app CPU per MiB beyond its fixed part <= 2x the floor's, wall "
        "ratio >= 0.9x its CPU ceiling; "
        "16 uploads: RSS +<100 MiB, /health p99 <100 ms",
        tuple(backends),
        assessed,
        _status(tuple(backends), assessed, bool(missed)),
        detail,
    )


def _api_name(r: ApiBenchResult) -> str:
    """e.g. "concurrent uploads 10 MiB [s3]"."""
    size = f" {size_label(r.size_bytes)}" if r.size_bytes else ""
    mode = f" ({r.mode})" if r.mode else ""
    return f"{r.test.replace('_', ' ')}{size}{mode} [{r.backend}]"


def _load_detail(found: list[LoadRunFindings]) -> str:
    parts = []
    for f in found:
        run, total = f.run, f.total
        if f.judged:
            whole = [s for s in run.slos if s.step is None]
            parts.append(
                f"{run.mode} run: {sum(s.passed for s in whole)} of {len(whole)} SLOs met, "
                f"{total.failures:,} of {total.requests:,} requests failed"
            )
        elif f.reasons:
            parts.append("step search: failed (" + "; ".join(f.reasons) + ")")
        elif f.generator_limited:
            parts.append("step search (judged on its knee): the generator was the limit")
        elif f.knee is not None:
            parts.append(
                f"step search (judged on its knee): knee at {f.knee.users} users "
                f"({fmt(f.knee.rps)} req/s)"
            )
        else:
            parts.append("step search (judged on its knee): no knee")
    return "; ".join(parts) or "no load run"


def _load(
    run: RunData, backends: list[str], found: list[LoadRunFindings] | None
) -> list[AssessedItem]:
    """One item per backend: assessed when a judged run (not a step search) had its SLOs
    evaluated there; failed when any load run there broke a promise
    (`LoadRun.broken_promises`: a step search without a knee too)."""
    found = load_findings(run) if found is None else found
    names = backends or sorted({f.backend for f in found}) or ["any"]
    items = []
    for backend in names:
        mine = [f for f in found if f.backend == backend or backend == "any"]
        ran = any(f.judged and any(s.step is None for s in f.run.slos) for f in mine)
        failed = any(f.reasons for f in mine)
        detail = _load_detail(mine) if run.load is not None else "no load.json"
        items.append(
            AssessedItem(
                f"load on {backend}: SLOs met, no failed request",
                (backend,),
                (backend,) if ran else (),
                _status((backend,), (backend,) if ran else (), failed),
                detail,
            )
        )
    return items


def assess(
    run: RunData, profile: RunProfile, load: list[LoadRunFindings] | None = None
) -> list[AssessedItem]:
    """Every item `profile` requires, assessed or not, passed or not, on which backends
    (`load`: the run's load findings, when already computed)."""
    items = [_suite(run, need) for need in profile.suites]
    if profile.resilience is not None:
        items.append(_resilience(run, profile.resilience.backends))
    if profile.migration.required:
        mig = run.migration
        status: ItemStatus = "not assessed" if mig is None or not mig.sections else "passed"
        if mig is not None and mig.broken_promises():
            status = "failed"
        items.append(
            AssessedItem(
                "migration results (schema walk, lock timeout, object copy)",
                (),
                ("any",) if status != "not assessed" else (),
                status,
                f"{len(mig.sections)} sections" if mig else "no migration.json",
            )
        )
    if profile.cutover.required:
        items.append(_cutover(run))
    if profile.alerts.required:
        items += _alerts(run, profile.alerts.backends)
    bench = profile.benchmarks
    for comparison in bench.goals:
        items.append(_goal(run, comparison, bench.backends, bench.undecided_fails))
    if bench.memory:
        items.append(_memory(run, bench.backends, bench.undecided_fails))
    if bench.api:
        items.append(_api(run, bench.backends))
    if bench.scrape:
        items.append(_scrape(run, bench.backends, bench.undecided_fails))
    if profile.load.required:
        items += _load(run, profile.load.backends, load)
    return items


def _alerts(run: RunData, backends: list[str]) -> list[AssessedItem]:
    """One item per required backend (one for any backend when none is named): the outage
    drill ran there, and its faults raised their alerts and nothing else."""
    label = "outage drill{}: alerts fire on their faults, none on the clean load"
    drills = {d.backend: d for d in run.alerts.drills} if run.alerts is not None else {}
    problems = run.alerts.broken_promises() if run.alerts is not None else []
    items = []
    for backend in backends or ["any"]:
        ran = [d for b, d in drills.items() if backend in (b, "any") and not d.error]
        where = "" if backend == "any" else f" on {backend}"
        if not ran:
            detail = "no alerts.json" if run.alerts is None else f"no drill{where}"
            items.append(AssessedItem(label.format(where), (backend,), (), "not assessed", detail))
            continue
        tags = {f"[{d.backend}]" for d in ran}
        failed = [p for p in problems if any(t in p for t in tags)]
        seen = sum(1 for d in ran for s in d.alerts if s.firing_s is not None)
        items.append(
            AssessedItem(
                label.format(where),
                (backend,),
                (backend,),
                "failed" if failed else "passed",
                f"{sum(len(d.phases) for d in ran)} phases, {seen} alerts fired, "
                f"{len(failed)} problem(s)",
            )
        )
    return items


def _cutover(run: RunData) -> AssessedItem:
    drill = run.cutover
    if drill is None:
        return AssessedItem("live cut-over drill", (), (), "not assessed", "no cutover.json")
    broken = drill.broken_promises()
    phases = " -> ".join(p.phase for p in drill.phases) or "no phase"
    return AssessedItem(
        "live cut-over drill",
        (),
        ("azure",),
        "failed" if broken else "passed",
        f"{drill.objects_seeded} objects, {phases}",
    )
