"""`crownsafe-harness audit`: a time it cannot read, a missing or unreachable database:
exit 2 with what to fix, nothing on stdout, no traceback and no password."""

from __future__ import annotations

import socket

import pytest

from harness import cli


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["--since", "yesterday"], {}, "'yesterday' is not a time: give ISO 8601"),
        (["--until", "5 weeks"], {}, "or an age (90s, 15m, 2h, 7d)"),
        ([], {"DATABASE_URL": ""}, "DATABASE_URL"),
        ([], {"DATABASE_URL": "mysql://u@h/db"}, "crownsafe needs PostgreSQL"),
    ],
    ids=["since", "until", "no database", "not postgres"],
)
def test_bad_input_is_exit_2_with_the_fix(
    argv: list[str],
    env: dict[str, str],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@127.0.0.1:1/db")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["audit", *argv]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert message in err, err
    assert "Traceback" not in err


def test_an_unreachable_database_is_named_without_its_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = _closed_port()
    monkeypatch.setenv("DATABASE_URL", f"postgresql://auditor:s3cret-pw@127.0.0.1:{port}/trail")
    assert cli.main(["audit", "--json"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert f"port {port} failed: Connection refused" in err, err
    assert "s3cret-pw" not in err and "Traceback" not in err
