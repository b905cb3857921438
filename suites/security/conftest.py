"""The security suite: hostile input over real HTTP against the running app and worker.

It reuses the API suite's stacks: the fixtures are the harness plugin's (`api_stack`, see
`harness/fixtures/api.py`), and each backend's tests join the API suite's xdist group
(`api-<backend>`), so one xdist worker serves both suites from one app + worker per
backend instead of starting a second stack.

Each test is one promise; its outcome is recorded as a named check in the run folder's
`security.json` (`SecurityChecksFile`) when the session records into a run folder. The
check's name is the test's name without `test_`, its detail the docstring's first line
(or, on failure, the failure's first line, redacted).
"""

from __future__ import annotations

from collections.abc import Generator

import pytest

from crownsafe.redaction import redact
from harness.plugin import backend_of, recording_dir
from harness.runfolder.checks import Check, SecurityChecksFile, record_checks


def _in_suite(item: pytest.Item) -> bool:
    return f"/{item.nodeid}".find("/suites/security/") >= 0 or item.nodeid.startswith(
        "suites/security"
    )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if not _in_suite(item):
            continue
        item.add_marker(pytest.mark.security)
        backend = backend_of(item)
        if backend is not None:
            item.add_marker(pytest.mark.xdist_group(f"api-{backend}"))


def _detail(item: pytest.Item, report: pytest.TestReport) -> str:
    if report.passed:
        doc = (getattr(item, "function", None).__doc__ or "").strip()  # type: ignore[union-attr]
        return doc.splitlines()[0] if doc else ""
    crash = getattr(report.longrepr, "reprcrash", None)
    message = getattr(crash, "message", None) or str(report.longrepr)
    return redact(message.splitlines()[0] if message else "failed")[:300]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    run_dir = recording_dir(item.config)
    if run_dir is None or not _in_suite(item) or report.skipped:
        return
    if report.when != "call" and report.passed:
        return  # setup/teardown that passed: the call's report is the verdict
    function = getattr(item, "originalname", item.name)
    name = function.removeprefix("test_")
    check = Check(
        name=name,
        passed=report.passed,
        detail=_detail(item, report),
        backend=backend_of(item) or "",
    )
    record_checks(run_dir, SecurityChecksFile, [check])
