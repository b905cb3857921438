"""The targets part of the Crown Safe pytest plugin (loaded by harness.plugin).

- parametrizes every test that uses `storage_target` (through `backend_name`) with the
  session's targets: contract tests with all of them (tests marked `sas` with the
  SAS targets too), other tests with the first target of each backend;
- applies the known-gaps files: an unsafe gap is not run (skipped, and said so), a harmless
  one runs and its failure becomes a known gap, its success a failure saying "gap closed"
  (an intermittent one: a pass is not "closed", the matrix counts how often it showed);
- makes an entry of a --known-gaps file that matches no contract test a collection error
  naming it (when the run collected whole directories: a run of chosen files or node ids
  cannot tell); the built-in files are checked against the contract by a unit test;
- on the controller, gathers each contract test's cell and writes `compatibility.json`.

A target that stops answering mid-run is harness.targets.watch's (loaded from here).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from crownsafe.redaction import redact
from harness.plugin import recording_dir
from harness.runfolder import write_file
from harness.runfolder.compatibility import CompatibilityFile
from harness.targets._gaps import Gap, KnownGaps
from harness.targets._parametrize import promise_of
from harness.targets._registry import TARGETS, Target
from harness.targets._selection import TargetSelection, add_target_options, selection_of
from harness.targets.matrix import GapNote, MatrixTarget, Outcome, build_matrix

__all__ = ["COMPATIBILITY_FILE", "MatrixRecorder"]

pytest_plugins = ["harness.targets.watch"]

COMPATIBILITY_FILE = CompatibilityFile.FILE
_PROP = "crownsafe_"
_GAP_KEY = pytest.StashKey[tuple[Target, KnownGaps, Gap]]()
_DETAIL_LIMIT = 1500


def pytest_addoption(parser: pytest.Parser) -> None:
    add_target_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    selection_of(config)
    if not hasattr(config, "workerinput") and recording_dir(config) is not None:
        config.pluginmanager.register(MatrixRecorder(config), "crownsafe-matrix-recorder")


def _note(gap: Gap) -> str:
    return GapNote(
        behaviour=gap.behaviour,
        evidence=gap.evidence,
        seen=gap.seen.isoformat(),
        mode=gap.mode,
        intermittent=gap.intermittent,
    ).model_dump_json()


def _partial_collection(config: pytest.Config) -> bool:
    """A run of chosen files or node ids (or with --ignore, --lf, --sw) collects part of
    the contract: a profile entry for a test outside it would look unmatched."""
    for arg in config.args:
        path = Path(arg.split("::", 1)[0])
        if (
            "::" in arg
            or not (path if path.is_absolute() else config.invocation_params.dir / path).is_dir()
        ):
            return True
    narrowing = ("ignore", "ignore_glob", "lf", "stepwise", "stepwise_skip")
    return any(config.getoption(name, None) for name in narrowing)


def _report_unmatched(
    config: pytest.Config, selection: TargetSelection, promises: set[str]
) -> None:
    """Each entry of a --known-gaps file naming no promise of the contract: a collection error
    (the run stops before its tests, or, under xdist, ends with the error)."""
    given = {str(Path(path)) for path in config.getoption("known_gaps") or []}
    if not promises or not given or _partial_collection(config):
        return
    for target in dict.fromkeys((*selection.full, *selection.sas)):
        known = selection.gaps_of(target)
        if known.source not in given:
            continue  # the built-in ones: suites/unit/harness/targets checks them
        where = known.source
        for gap in known.unmatched(promises):
            message = (
                f"known-gaps file {where}: entry promise = {gap.promise!r} (target {target.name}) "
                "matches no contract test. Fix: name a test (`test_x`, which covers all its "
                "parameters) or one promise id as compatibility.json shows it "
                "(`test_x[1KiB]`), or remove the entry"
            )
            nodeid = f"known-gaps/{Path(where).name}::{gap.promise}"
            config.hook.pytest_collectreport(
                report=pytest.CollectReport(nodeid, "failed", message, [])
            )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Before -k / -m deselect: every collected promise counts for the profile check."""
    selection = selection_of(config)
    promises: set[str] = set()
    for item in items:
        callspec = getattr(item, "callspec", None)
        name = callspec.params.get("storage_target") if callspec is not None else None
        if name not in TARGETS or item.get_closest_marker("contract") is None:
            continue
        target = TARGETS[name]
        promise = promise_of(item, target, selection)
        doc = (getattr(getattr(item, "obj", None), "__doc__", None) or "").strip().splitlines()
        item.user_properties += [
            (f"{_PROP}target", target.name),
            (f"{_PROP}promise", promise),
            (f"{_PROP}promise_doc", doc[0] if doc else ""),
        ]
        promises.add(promise)
        known = selection.gaps_of(target)
        gap = known.gap_for(promise)
        if gap is None:
            continue
        item.user_properties.append((f"{_PROP}gap", _note(gap)))
        if gap.mode == "unsafe":
            item.add_marker(
                pytest.mark.skip(
                    reason=f"not run on {target.name}: unsafe known gap ({gap.behaviour}; "
                    f"seen {gap.seen}, known gaps {known.source or 'built-in'})"
                )
            )
        else:
            item.stash[_GAP_KEY] = (target, known, gap)
    _report_unmatched(config, selection, promises)


def _crash_message(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    return str(getattr(crash, "message", "") or report.longreprtext)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A harmless known gap: the documented failure is a known gap (xfail), a pass is
    "gap closed" (a failure, so the known-gaps file gets updated), another failure stays
    broken. An intermittent gap's pass is an XPASS (a non-strict xfail), not "gap closed"."""
    report: pytest.TestReport = yield
    found = item.stash.get(_GAP_KEY, None)
    if found is None or report.when != "call":
        return report
    target, known, gap = found
    where = known.source or "the built-in known gaps"
    if report.passed and gap.intermittent:
        report.wasxfail = (
            f"intermittent known gap on {target.name} did not show this time "
            f"(seen {gap.seen}: {gap.behaviour})"
        )
        report.user_properties = [*report.user_properties, (f"{_PROP}gap_shown", "0")]
    elif report.passed:
        report.outcome = "failed"
        report.longrepr = (
            f"gap closed: {target.name} now keeps this promise, listed as a known gap "
            f"(seen {gap.seen}: {gap.behaviour}). Remove it from {where}."
        )
        report.user_properties = [*report.user_properties, (f"{_PROP}gap_closed", "1")]
    elif report.failed and gap.explains(_crash_message(report)):
        report.outcome = "skipped"
        kind = "intermittent known gap" if gap.intermittent else "known gap"
        report.wasxfail = f"{kind} on {target.name} (seen {gap.seen}): {gap.behaviour}"
        if gap.intermittent:
            report.user_properties = [*report.user_properties, (f"{_PROP}gap_shown", "1")]
    elif report.failed:
        report.sections.append(
            (
                "known gap",
                f"{target.name} has a known gap here ({gap.behaviour}), but this failure does "
                f"not match its documented behaviour /{gap.match}/: treated as broken",
            )
        )
    return report


def _detail(text: str) -> str:
    text = redact(re.sub(r"\s+", " ", text).strip())
    return text if len(text) <= _DETAIL_LIMIT else text[: _DETAIL_LIMIT - 3] + "..."


class MatrixRecorder:
    """Collects the contract tests' cells on the controller; writes compatibility.json."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.outcomes: dict[str, dict[str, Any]] = {}
        self.promises: dict[str, str] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        props = dict(report.user_properties)
        target = props.get(f"{_PROP}target")
        if not isinstance(target, str):
            return
        promise = str(props[f"{_PROP}promise"])
        self.promises.setdefault(promise, str(props.get(f"{_PROP}promise_doc", "")))
        nodeid = re.sub(r"@[^\[\]@]+$", "", report.nodeid)
        entry = self.outcomes.setdefault(
            nodeid,
            {"nodeid": nodeid, "promise": promise, "target": target, "status": "kept"},
        )
        gap = props.get(f"{_PROP}gap")
        if isinstance(gap, str):
            entry["gap"] = GapNote.model_validate_json(gap)
        shown = props.get(f"{_PROP}gap_shown")
        if shown is not None:
            entry["gap_shown"] = shown == "1"
        xfail = getattr(report, "wasxfail", None)
        if report.when == "call" and report.passed and shown == "0":
            entry.update(status="known_gap", detail=_detail(str(xfail)))
        elif report.when == "setup" and report.failed:
            entry.update(status="broken", detail=_detail(report.longreprtext))
        elif report.when in ("setup", "call") and report.skipped:
            if xfail is not None:
                entry.update(status="known_gap", detail=_detail(str(xfail)))
            else:
                reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
                entry.update(status="not_run", detail=_detail(str(reason)))
        elif report.when == "call" and report.failed:
            closed = f"{_PROP}gap_closed" in props
            entry.update(
                status="gap_closed" if closed else "broken",
                detail=_detail(str(report.longrepr) if closed else _crash_message(report)),
            )
        elif report.when == "teardown" and report.failed:
            note = "teardown failed: " + _detail(_crash_message(report))
            entry["detail"] = f"{entry.get('detail', '')} {note}".strip()

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.outcomes:
            return
        selection = selection_of(self.config)
        targets = [_matrix_target(t, selection, "contract") for t in selection.full]
        # compatibility.json calls the SAS-only scope "security" (its schema, version 1)
        targets += [_matrix_target(t, selection, "security") for t in selection.sas]
        matrix = build_matrix(
            targets, self.promises, [Outcome(**entry) for entry in self.outcomes.values()]
        )
        run_dir = recording_dir(self.config)
        assert run_dir is not None  # registered only when recording
        write_file(run_dir, matrix)


def _matrix_target(target: Target, selection: TargetSelection, scope: str) -> MatrixTarget:
    return MatrixTarget(
        name=target.name,
        backend=target.backend,
        description=target.description,
        profile=selection.gaps_of(target).source,
        scope="security" if scope == "security" else "contract",
    )
