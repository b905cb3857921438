"""The runner and the outcome rules, with fake checks (harness.predeploy.runner, model)."""

from __future__ import annotations

import os
import signal

import pytest

from crownsafe.errors import StorageAuthError
from harness.predeploy.context import Context, Options
from harness.predeploy.interrupt import Interrupted, signals_raise
from harness.predeploy.model import Check, CheckResult, decide_outcome, failed, passed
from harness.predeploy.runner import run_checks, run_predeploy

SECRET = "s3cr3t-connection-value"


def _raise_auth(ctx: Context) -> None:
    raise StorageAuthError(
        f"refused for {SECRET}", operation="list_blobs", status=403, error_code="AuthFailed"
    )


def _boom(ctx: Context) -> None:
    raise KeyError(f"AccountKey={SECRET}")


CHECKS = (
    Check("config.first", "first", lambda ctx: passed("ok")),
    Check("storage.auth", "auth", _raise_auth, needs=("config.first",)),  # type: ignore[arg-type]
    Check("storage.after", "after", lambda ctx: passed("ok"), needs=("storage.auth",)),
    Check("sas.boom", "boom", _boom),  # type: ignore[arg-type]
    Check("api.skipped", "skipped", lambda ctx: passed("ok")),
)


def _run(*skip: str) -> dict[str, CheckResult]:
    ctx = Context(environ={"AZURE_STORAGE_CONNECTION_STRING": SECRET}, options=Options(skip=skip))
    assert run_checks(CHECKS, ctx) is False
    return ctx.results


def test_typed_errors_fail_with_their_hint_and_dependents_are_skipped() -> None:
    results = _run("api.*")
    assert results["config.first"].status == "passed"
    auth = results["storage.auth"]
    assert auth.status == "failed"
    assert auth.message == "list_blobs: refused for <redacted> (status=403, code=AuthFailed)"
    assert auth.hint.startswith("check the credentials")
    assert results["storage.after"].status == "skipped"
    assert results["storage.after"].message == "needs storage.auth (failed)"
    assert results["api.skipped"].message == "skipped by --skip"


def test_unexpected_exceptions_fail_redacted() -> None:
    boom = _run()["sas.boom"]
    assert boom.status == "failed" and SECRET not in boom.message
    assert boom.message.startswith("unexpected KeyError")


def test_a_fatal_failure_means_could_not_run() -> None:
    checks = (
        Check("config.load", "load", lambda ctx: failed("broken", "fix it"), fatal=True),
        Check("storage.next", "next", lambda ctx: passed("never")),
    )
    report = run_predeploy(checks, {}, Options())
    assert (report.outcome, report.exit_code) == ("could-not-run", 4)
    assert [c.status for c in report.checks] == ["failed", "skipped"]


def test_dry_run_runs_nothing() -> None:
    ran: list[str] = []
    checks = (Check("storage.x", "x", lambda ctx: ran.append("x") or passed("")),)  # type: ignore[func-returns-value]
    report = run_predeploy(checks, {}, Options(dry_run=True))
    assert ran == [] and report.exit_code == 0 and report.checks[0].status == "planned"


def test_a_signal_stops_the_run_and_names_itself() -> None:
    def interrupt(ctx: Context) -> None:
        os.kill(os.getpid(), signal.SIGTERM)

    checks = (
        Check("storage.a", "a", interrupt),  # type: ignore[arg-type]
        Check("storage.b", "b", lambda ctx: passed("never")),
    )
    report = run_predeploy(checks, {}, Options())
    assert (report.outcome, report.exit_code) == ("interrupted", 143)
    assert [c.message for c in report.checks] == ["interrupted by SIGTERM"] * 2


def test_signals_raise_restores_the_previous_handler() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Interrupted), signals_raise():
        os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGTERM) is before


@pytest.mark.parametrize(
    ("statuses", "kwargs", "expected"),
    [
        (["passed", "skipped"], {}, ("passed", 0)),
        (["passed", "failed"], {}, ("failed", 1)),
        (["passed"], {"probes_left": 1}, ("failed", 1)),
        (["failed"], {"fatal": True}, ("could-not-run", 4)),
        (["failed"], {"interrupted_by": 2}, ("interrupted", 130)),
    ],
)
def test_decide_outcome(
    statuses: list[str], kwargs: dict[str, int], expected: tuple[str, int]
) -> None:
    results = [
        CheckResult(id=f"x.{i}", area="x", title="t", status=s, message="")  # type: ignore[arg-type]
        for i, s in enumerate(statuses)
    ]
    assert decide_outcome(results, **kwargs) == expected  # type: ignore[arg-type]
