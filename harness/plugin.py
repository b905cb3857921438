"""The Crown Safe pytest plugin (entry point pytest11 `crownsafe_harness`).

Adds `--backends`, `--provision` and `--run-dir`, loads the fixture modules and prints
the run folder in pytest's header. When a run folder is asked for (`--run-dir`, or
`HARNESS_RUN_DIR`; the harness's own commands pass theirs), it records every test's
outcome into it (`suites/<suite>.json`) plus the environment fingerprint
(`environment.json`), each through its model in `harness.runfolder`; a plain `pytest`
records nothing and leaves `reports/` alone (the services' logs then go to pytest's
temporary folder). Under pytest-xdist only the controller writes: the workers' reports
reach it through `pytest_runtest_logreport`, each carrying its test's backend, read from
the test's parameters where the item is.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path, PurePosixPath
from types import FrameType
from typing import Any, cast

import pytest

from crownsafe.config import BACKENDS
from crownsafe.redaction import XML_MARKER, known_secrets, redact
from harness.environment import collect_environment
from harness.runfolder import resolve_run_dir, write_file
from harness.runfolder.environment import EnvironmentFile
from harness.runfolder.suites import SuiteFile, TestRecord
from harness.services.base import PROVISION_MODES, ProvisionMode
from harness.settings import process_environment, read_settings

__all__ = [
    "BACKENDS",
    "PROVISION_MODES",
    "ResultRecorder",
    "backend_of",
    "provision_mode",
    "recording_dir",
    "selected_backends",
    "stop_on_sigterm",
    "suite_of",
]

pytest_plugins = [
    "harness.fixtures.storage",
    "harness.fixtures.database",
    "harness.fixtures.faults",
    "harness.fixtures.api",
    "harness.logscan",
    "harness.targets.plugin",
    "harness.targets.fixtures",
]

MESSAGE_LIMIT = 2000


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("crownsafe", "Crown Safe harness")
    settings = read_settings()
    group.addoption(
        "--backends",
        default=settings.backends,
        help="comma-separated storage backends to test: azure, s3 "
        "(default: $HARNESS_BACKENDS or azure,s3)",
    )
    group.addoption(
        "--provision",
        default=settings.provision,
        choices=PROVISION_MODES,
        help="how services are obtained: local processes (default), docker "
        "(testcontainers) or external (endpoints from HARNESS_* variables)",
    )
    group.addoption(
        "--run-dir",
        default=None,
        help="run folder to record the results into (default: $HARNESS_RUN_DIR; "
        "without either, nothing is recorded)",
    )


def selected_backends(config: pytest.Config) -> list[str]:
    """The backends named by --backends, validated, in the given order."""
    raw = str(config.getoption("backends") or "")
    names = [n.strip().lower() for n in raw.split(",") if n.strip()]
    unknown = [n for n in names if n not in BACKENDS]
    if unknown or not names:
        raise pytest.UsageError(
            f"--backends {raw!r}: unknown or empty ({', '.join(unknown) or 'none given'}); "
            f"use a comma-separated subset of {', '.join(BACKENDS)}"
        )
    return list(dict.fromkeys(names))


def provision_mode(config: pytest.Config) -> ProvisionMode:
    return cast(ProvisionMode, str(config.getoption("provision")))


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def _sigterm_as_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"stopped by signal {signal.Signals(signum).name}")


def stop_on_sigterm() -> None:
    """SIGTERM (a cancelled CI job, `timeout`, `kill`) ends the run as Ctrl-C does.

    By default SIGTERM kills pytest at once: no teardown runs and the emulators, PostgreSQL
    and Redis it started outlive it. As a KeyboardInterrupt, pytest stops the test, runs
    the session's finalizers (which stop every service by PID) and reports as interrupted.
    Installed in the controller and in each xdist worker; a handler someone else set is
    left alone.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _sigterm_as_interrupt)


def pytest_configure(config: pytest.Config) -> None:
    selected_backends(config)
    stop_on_sigterm()
    if _is_worker(config) or recording_dir(config) is None:
        return
    config.pluginmanager.register(ResultRecorder(config), "crownsafe-result-recorder")


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """pytest's own JUnit XML (`--junit-xml`) carries raw failure text: pass it through the
    one redactor once pytest has written it, so a CI artifact never holds a secret."""
    xmlpath = getattr(config.option, "xmlpath", None)
    if _is_worker(config) or not xmlpath or not Path(xmlpath).is_file():
        return
    path = Path(xmlpath)
    text = path.read_text("utf-8")
    clean = redact(text, *known_secrets(process_environment()), marker=XML_MARKER)
    if clean != text:
        path.write_text(clean, "utf-8")


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Fix the run folder before xdist starts workers: they get it through the options."""
    config = session.config
    run_dir = recording_dir(config)
    if _is_worker(config) or run_dir is None:
        return
    environment = {**collect_environment(config.rootpath), "provision": provision_mode(config)}
    write_file(run_dir, EnvironmentFile.model_validate(environment))


def pytest_report_header(config: pytest.Config) -> str:
    run_dir = recording_dir(config)
    if run_dir is None:
        return "crownsafe run folder: none (pass --run-dir or set HARNESS_RUN_DIR to record)"
    return f"crownsafe run folder: {run_dir}"


def recording_dir(config: pytest.Config) -> Path | None:
    """The run folder this session records into: `--run-dir`, else `HARNESS_RUN_DIR`;
    None when neither names one. Resolved (and created) once; xdist workers read the
    controller's choice from their copy of the options."""
    named = config.getoption("run_dir") or read_settings().run_dir
    if not named:
        return None
    run_dir = resolve_run_dir(named)
    config.option.run_dir = str(run_dir)
    return run_dir


def suite_of(nodeid: str) -> str:
    """'suites/contract/test_x.py::t[azure]' -> 'contract'; benchmarks/... -> 'benchmarks'."""
    parts = PurePosixPath(nodeid.split("::", 1)[0]).parts
    if "suites" in parts:
        index = parts.index("suites")
        return parts[index + 1] if index + 2 < len(parts) else "suites"
    if "benchmarks" in parts:
        return "benchmarks"
    return parts[0] if len(parts) > 1 else "other"


BACKEND_PARAMETERS = ("backend_name", "backend")
"""Parameters that name the backend when a test parametrizes it itself."""


def backend_of(item: pytest.Item) -> str | None:
    """The storage backend a test runs on, from its parameters (never its id): its target
    (`storage_target`, e.g. 's3:localstack'), else a `backend_name` / `backend` parameter,
    else another parameter (or parametrized fixture) whose value is a backend name."""
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return None
    params: dict[str, object] = callspec.params
    target = params.get("storage_target")
    if isinstance(target, str) and target.partition(":")[0] in BACKENDS:
        return target.partition(":")[0]
    named = [params[name] for name in BACKEND_PARAMETERS if name in params]
    for value in [*named, *params.values()]:
        if isinstance(value, str) and value in BACKENDS:
            return value
    return None


_BACKEND_ATTRIBUTE = "crownsafe_backend"
"""The attribute of a test report carrying its backend (to the xdist controller, too)."""


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report: pytest.TestReport = yield
    setattr(report, _BACKEND_ATTRIBUTE, backend_of(item))
    return report


def _message(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if longrepr is None:
        return ""
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        text = str(longrepr[2])
    else:
        crash = getattr(longrepr, "reprcrash", None)
        text = str(getattr(crash, "message", "") or "") or report.longreprtext
    text = redact(text.strip(), *known_secrets(process_environment()))
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 3] + "..."


class ResultRecorder:
    """Collects one entry per test (setup, call and teardown folded together)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.tests: dict[str, dict[str, Any]] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        entry = self.tests.setdefault(
            report.nodeid,
            {
                "nodeid": report.nodeid,
                "backend": getattr(report, _BACKEND_ATTRIBUTE, None),
                "outcome": "passed",
                "duration_s": 0.0,
                "message": "",
            },
        )
        entry["duration_s"] = round(entry["duration_s"] + report.duration, 6)
        xfail = hasattr(report, "wasxfail")
        if report.when == "setup":
            if report.failed:
                entry.update(outcome="error", message=_message(report))
            elif report.skipped:
                entry.update(outcome="xfailed" if xfail else "skipped", message=_message(report))
        elif report.when == "call":
            if xfail:
                entry["outcome"] = "xfailed" if report.skipped else "xpassed"
                entry["message"] = redact(
                    str(getattr(report, "wasxfail", "")), *known_secrets(process_environment())
                )
            elif report.failed:
                entry.update(outcome="failed", message=_message(report))
            elif report.skipped:
                entry.update(outcome="skipped", message=_message(report))
        elif report.failed:
            if entry["outcome"] in ("passed", "skipped", "xfailed"):
                entry["outcome"] = "error"
            teardown = _message(report)
            entry["message"] = f"{entry['message']}\nteardown: {teardown}".strip()

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.tests[report.nodeid] = {
                "nodeid": report.nodeid,
                "backend": None,
                "outcome": "error",
                "duration_s": 0.0,
                "message": "collection failed: "
                + redact(report.longreprtext.strip())[-MESSAGE_LIMIT:],
            }

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if not self.tests:
            return
        run_dir = recording_dir(self.config)
        assert run_dir is not None  # registered only when recording
        by_suite: dict[str, list[dict[str, Any]]] = {}
        for nodeid, entry in self.tests.items():
            by_suite.setdefault(suite_of(nodeid), []).append(entry)
        for suite, tests in by_suite.items():
            write_file(run_dir, _suite_record(suite, tests, exitstatus), f"suites/{suite}.json")


def _suite_record(suite: str, tests: list[dict[str, Any]], exitstatus: int) -> SuiteFile:
    records = sorted((TestRecord.model_validate(t) for t in tests), key=lambda t: t.nodeid)
    totals: dict[str, int] = {}
    per_backend: dict[str, dict[str, int]] = {}
    for test in records:
        totals[test.outcome] = totals.get(test.outcome, 0) + 1
        counts = per_backend.setdefault(test.backend or "-", {})
        counts[test.outcome] = counts.get(test.outcome, 0) + 1
    return SuiteFile(
        suite=suite, exitstatus=int(exitstatus), totals=totals, backends=per_backend, tests=records
    )
