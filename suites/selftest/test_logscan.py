"""harness.logscan: a secret in any captured log line fails the session, whichever process
captured it and whichever test ran last."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from crownsafe.redaction import MARKER, redact
from harness.logscan import find_secrets

pytest_plugins = ["pytester"]

LITERAL = "SUPERSECRETVALUE123"
CONFTEST = textwrap.dedent(
    f"""
    import pytest
    from harness.logscan import submit_log_lines

    @pytest.fixture(scope="session")
    def captured(request):
        lines = []
        yield lines
        submit_log_lines(request.config, lines, {{"the key": "{LITERAL}"}})
    """
)


def _project(pytester: pytest.Pytester, *lines: str) -> None:
    pytester.makeconftest(CONFTEST)
    tests = {
        f"test_{i}": f"def test_{i}(captured):\n    captured.append({line!r})\n"
        for i, line in enumerate(["INFO crownsafe nothing to hide", *lines])
    }
    pytester.makepyfile(**tests)


def _run(pytester: pytest.Pytester, tmp_path: Path, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(
        "-p", "no:locust", "-p", "no:cacheprovider", "--run-dir", str(tmp_path / "run"), *args
    )


@pytest.mark.parametrize("parallel", [["-n", "2"], ["-p", "no:xdist"]], ids=["xdist", "serial"])
def test_a_signature_in_a_log_line_fails_the_session_naming_the_line(
    pytester: pytest.Pytester, tmp_path: Path, parallel: list[str]
) -> None:
    _project(pytester, "DEBUG urllib3 GET /c/b?sv=2024&sig=abcDEF123%3D HTTP/1.1 200")
    result = _run(pytester, tmp_path, *parallel)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "*unredacted secrets in captured log lines*",
            "SAS signature: DEBUG urllib3 GET /c/b?sv=2024&sig=<redacted>*",
            "log scan: 2 captured log lines from * process(es), 1 secret(s) found",
        ]
    )
    assert "abcDEF123" not in result.stdout.str()


def test_a_literal_secret_value_is_named_but_never_printed(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    _project(pytester, f"INFO app using key {LITERAL} for the upload")
    result = _run(pytester, tmp_path, "-n", "2")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["the key in: INFO app using key <secret> for the upload"])
    assert LITERAL not in result.stdout.str()


def test_clean_logs_pass_and_say_what_was_scanned(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    _project(pytester, "INFO urllib3 GET /c/b?sv=2024&sig=<redacted> HTTP/1.1 200")
    result = _run(pytester, tmp_path, "-n", "2")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        ["log scan: 2 captured log lines from 2 process(es), no secret found"]
    )
    assert "unredacted secrets" not in result.stdout.str()


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("AccountKey=abc123==;", "account key"),
        ("url?X-Amz-Signature=deadbeef", "presigned signature"),
        ("headers {'Authorization': 'SharedKey acct:xyz'}", "Authorization value"),
        ("DefaultEndpointsProtocol=https;AccountName=a", "connection string"),
    ],
)
def test_each_kind_of_secret_is_found(line: str, kind: str) -> None:
    """The scan knows each kind; the redactor's output of the same line passes it."""
    assert [hit.split(":")[0] for hit in find_secrets([line])] == [kind]
    if kind != "connection string":  # the redactor keeps the endpoint and account name
        assert find_secrets([redact(line)]) == []


@pytest.mark.parametrize("mask", ["***", "REDACTED", "xxx"])
def test_only_the_redactor_s_marker_counts_as_redacted(mask: str) -> None:
    """A home-made mask did not go through crownsafe.redaction: the scan reports it."""
    line = f"DEBUG urllib3 GET /c/b?sv=2024&sig={mask} HTTP/1.1 200"
    assert [hit.split(":")[0] for hit in find_secrets([line])] == ["SAS signature"]
    assert find_secrets([line.replace(mask, MARKER)]) == []
