"""The pytest side of `_liveness`: a target that stops answering is named once, the rest of
its tests are not run (loaded by harness.targets.plugin).

- the `target_services` fixture tells the watch where each target listens;
- a failed setup, call or teardown probes the target: the first test body to find it down
  keeps its failure with a section saying so; a setup that failed on it, or a test of
  another worker that failed because of it, becomes "not run";
- later tests of a down target are skipped at setup with the reason, before any fixture
  talks to it; a teardown that fails on a down target is not an error of its own;
- the terminal summary says, once per target, which test was running when it stopped and
  how many of its tests were not run.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

from harness.targets._liveness import Down, TargetWatch
from harness.targets._registry import TARGETS

__all__ = ["watch_of"]

_KEY = pytest.StashKey[TargetWatch]()
_SHARED = "crownsafe_targets_down_dir"
_DOWN_PROP = "crownsafe_target_down"
_NOT_RUN_PROP = "crownsafe_target_not_run"


def watch_of(config: pytest.Config) -> TargetWatch:
    """This process's watch (made in pytest_configure)."""
    return config.stash[_KEY]


def pytest_configure(config: pytest.Config) -> None:
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None and _SHARED in workerinput:
        shared = Path(workerinput[_SHARED])
    else:
        shared = Path(tempfile.mkdtemp(prefix="crownsafe-targets-down-"))
    config.stash[_KEY] = TargetWatch(
        shared, shared=lambda name: TARGETS[name].implementation == "external"
    )
    if workerinput is None:
        config.pluginmanager.register(DownSummary(), "crownsafe-target-down-summary")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist: every worker shares the controller's folder of down targets."""
    node.workerinput[_SHARED] = str(watch_of(node.config).shared_dir)


def pytest_unconfigure(config: pytest.Config) -> None:
    watch = config.stash.get(_KEY, None)
    if watch is not None and not hasattr(config, "workerinput"):
        shutil.rmtree(watch.shared_dir, ignore_errors=True)


def _target_of(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    name = callspec.params.get("storage_target") if callspec is not None else None
    return name if name in TARGETS else None


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    target = _target_of(item)
    down = watch_of(item.config).known_down(target) if target else None
    if down is not None:
        item.user_properties.append((_NOT_RUN_PROP, json.dumps(down.__dict__)))
        # reported at the test's own location, as a skip marker is
        raise pytest.skip.Exception(down.reason(), _use_item_location=True)


def _not_run(report: pytest.TestReport, item: pytest.Item, down: Down) -> None:
    report.outcome = "skipped"
    report.longrepr = (str(item.path), (item.location[1] or 0) + 1, f"Skipped: {down.reason()}")
    report.user_properties = [
        *report.user_properties,
        (_NOT_RUN_PROP, json.dumps(down.__dict__)),
    ]


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Innermost wrapper: the gap judgement (harness.targets.plugin) sees the result."""
    report: pytest.TestReport = yield
    target = _target_of(item)
    if target is None or not report.failed:
        return report
    watch = watch_of(item.config)
    seen = watch.after_failure(target, item.nodeid, claim=report.when == "call")
    if seen is None:
        return report
    if report.when == "teardown":
        report.outcome = "passed"
        report.sections.append((f"teardown on a stopped target ({target})", report.longreprtext))
        report.longrepr = None
        return report
    down, first = seen
    if first:
        report.sections.append(("target stopped answering", down.headline()))
        report.user_properties = [*report.user_properties, (_DOWN_PROP, json.dumps(down.__dict__))]
    else:
        _not_run(report, item, down)
    return report


class DownSummary:
    """On the controller: one line per target that stopped answering."""

    def __init__(self) -> None:
        self.down: dict[str, Down] = {}
        self.not_run: dict[str, set[str]] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for key, value in report.user_properties:
            if key == _DOWN_PROP:  # the named test wins over an unnamed sighting
                down = Down(**json.loads(str(value)))
                self.down[down.target] = down
            elif key == _NOT_RUN_PROP:
                down = Down(**json.loads(str(value)))
                self.down.setdefault(down.target, down)
                self.not_run.setdefault(down.target, set()).add(report.nodeid)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        for target, down in self.down.items():
            skipped = len(self.not_run.get(target, ()))
            terminalreporter.write_sep("=", f"{target} stopped answering", red=True, bold=True)
            during = f" during {down.during}" if down.during else ""
            terminalreporter.write_line(
                f"{target} stopped answering ({down.why}){during}; "
                f"{skipped} of its tests were not run"
            )
