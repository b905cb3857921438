"""The report's verdict rules: ready / not ready / incomplete for one run folder.

One judge: the report, `crownsafe-harness run`'s summary and its exit code, and
`crownsafe-harness report` all read `verdict()`. The rules of the parts live on the
run-folder models where a command must apply them too (`LoadRun.broken_promises`,
`MigrationFile.broken_promises`); here they are gathered against the run profile:

- *not ready*: a run-folder file that does not validate, a failed test, a lost upload or
  an unbounded retry under faults, a migration promise broken, an alert that did not fire
  on its fault of the outage drill (or fired on its clean load), a measured goal not met
  (or undecided, when the profile says so), a benchmark regression, a load run that broke
  a promise, a failed check;
- *incomplete*: nothing of the above, but an item the profile requires was not assessed
  on every backend it names;
- *ready*: otherwise.
"""

from __future__ import annotations

from harness.report.assessment import assess
from harness.report.findings import BaselineRow, Outcome, Verdict
from harness.report.labels import (
    added_label,
    memory_label,
    ordered_added,
    ordered_ratios,
    ratio_label,
    scrape_label,
    scrape_points,
)
from harness.report.loadfindings import LoadRunFindings, load_findings
from harness.report.profile import RunProfile, read_run_profile
from harness.runfolder import RunData

__all__ = ["goal_findings", "verdict", "verdict_lines"]


def goal_findings(run: RunData) -> tuple[list[str], list[str]]:
    """(reasons the run is not ready, notes): measured goals not met, and left undecided.
    The verdicts are the benchmark's (rules in harness/bench/overhead.py)."""
    reasons: list[str] = []
    notes: list[str] = []
    for r in ordered_ratios(run):
        what = f"performance goal {ratio_label(r)} >= {r.goal:g}x"
        if r.measured and r.verdict == "not met":
            reasons.append(f"{what} not met: {r.reason}")
        elif r.measured and r.verdict == "undecided":
            notes.append(f"{what} undecided: {r.reason}")
    for t in ordered_added(run):
        what = f"performance goal {added_label(t)} <= +{t.goal_s * 1000:g} ms on the median"
        if t.measured and t.verdict == "not met":
            reasons.append(f"{what} not met: {t.reason}")
        elif t.measured and t.verdict == "undecided":
            notes.append(f"{what} undecided: {t.reason}")
    for a in run.bench.api:
        missed = a.missed_goals() if a.measured else []
        if missed:
            size = f" {a.size_bytes // 2**20} MiB" if a.size_bytes else ""
            size += f" {a.mode}" if a.mode else ""
            reasons.append(f"API goal {a.test}{size} [{a.backend}] not met: {'; '.join(missed)}")
    for p in run.bench.memory:
        what = f"memory goal for a streamed {memory_label(p)}"
        if p.measured and p.verdict == "not met":
            reasons.append(f"{what} not met: {p.reason}")
        elif p.measured and p.verdict == "undecided":
            notes.append(f"{what} undecided: {p.reason}")
    for s in scrape_points(run):
        what = f"goal {scrape_label(s)} p99 < {s.goal_p99_ms:g} ms"
        if s.measured and s.verdict == "not met":
            reasons.append(f"{what} not met: {s.reason}")
        elif s.measured and s.verdict == "undecided":
            notes.append(f"{what} undecided: {s.reason}")
    return reasons, notes


def _failures(
    run: RunData, profile: RunProfile, load: list[LoadRunFindings]
) -> tuple[list[str], list[str]]:
    """(reasons the run is not ready, notes): everything that failed, required or not."""
    reasons: list[str] = [str(p) for p in run.problems]
    notes: list[str] = []
    for suite in run.suites:
        for backend in suite.backend_names():
            failed = suite.counts(backend)["failed"]
            if failed:
                where = f" [{backend}]" if backend != "-" else ""
                reasons.append(f"{failed} failed test(s) in suite {suite.suite}{where}")
        totals = suite.counts()
        if totals["skipped"]:
            notes.append(f"{totals['skipped']} skipped test(s) in suite {suite.suite}")
        if totals["known_gap"]:
            notes.append(f"{totals['known_gap']} known gap(s) in suite {suite.suite}")
    res = run.resilience
    if res is not None:
        if res.lost:
            reasons.append(f"{res.lost} acknowledged upload(s) lost or corrupted under faults")
        most, bound = res.summary.max_attempts_per_call, res.summary.attempts_bound
        if bound and most > bound:
            reasons.append(f"a call made {most} HTTP attempts under faults (bound {bound})")
        reasons += [
            f"resilience check failed: {c.name} [{c.backend}]" for c in res.checks if not c.passed
        ]
    if run.migration is not None:
        reasons += run.migration.broken_promises()
    if run.cutover is not None:
        reasons += run.cutover.broken_promises()
    if run.alerts is not None:
        reasons += run.alerts.broken_promises()
    if run.stages is not None:
        reasons += run.stages.broken_promises()
    goal_reasons, goal_notes = goal_findings(run)
    reasons += goal_reasons
    if profile.benchmarks.undecided_fails:
        reasons += [
            f"{n} (the profile {profile.name!r} counts undecided as failed)" for n in goal_notes
        ]
    else:
        notes += goal_notes
    gate = run.bench.gate
    if gate is not None and not gate.passed:
        names = ", ".join(r.name for r in gate.regressions) or "see bench/gate.json"
        reasons.append(f"benchmark regression gate failed: {names}")
    for found in load:
        reasons += found.reasons
        notes += found.notes
    for area, checks in run.checks.items():
        reasons += [f"{area} check failed: {c.name}" for c in checks if not c.passed]
    return reasons, notes


def verdict(
    run: RunData,
    profile: RunProfile | None = None,
    baseline: list[BaselineRow] | None = None,
    load: list[LoadRunFindings] | None = None,
) -> Verdict:
    """ready / not ready / incomplete against `profile` (default: the default profile)."""
    profile = profile or read_run_profile()
    load = load_findings(run) if load is None else load
    items = assess(run, profile, load)
    reasons, notes = _failures(run, profile, load)
    reasons += [
        f"regression against the baseline: {r.name}" for r in baseline or [] if r.regression
    ]
    missing = []
    for item in items:
        if item.status != "not assessed":
            continue
        absent = [b for b in item.required_backends if b not in item.assessed_backends]
        where = f" on {', '.join(absent)}" if absent and item.assessed_backends else ""
        missing.append(f"{item.label}: not assessed{where} ({item.detail})")
    if not run.suites and run.bench.empty() and run.resilience is None and run.migration is None:
        notes.append("nothing ran: the run folder holds no suite, benchmark or summary results")
    outcome: Outcome = "not ready" if reasons else "incomplete" if missing else "ready"
    return Verdict(outcome, profile.name, reasons, missing, notes, items)


def verdict_lines(verdict: Verdict) -> list[str]:
    """The verdict as the console's last lines: outcome, then why."""
    lines = [f"verdict: {verdict.outcome.upper()} (run profile {verdict.profile})"]
    lines += [f"  - {reason}" for reason in verdict.reasons]
    lines += [f"  - {missing}" for missing in verdict.missing]
    return lines
