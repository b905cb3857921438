"""`crownsafe-harness token` refuses a signing key too short for HS256 with our own message
(its length in bytes, the 32-byte minimum, how to make one), never PyJWT's
InsecureKeyLengthWarning, and never prints the key."""

from __future__ import annotations

import warnings

import pytest

from harness import cli

SHORT = "tiny-key-xyz"  # 12 bytes


def _token(
    argv: list[str], env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> tuple[int, list[warnings.WarningMessage]]:
    monkeypatch.delenv("JWT_SECRET", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        code = cli.main(["token", "--user", "7", *argv])
    return code, seen


@pytest.mark.parametrize(
    ("argv", "env", "variable"),
    [
        ([], {"JWT_SECRET": SHORT}, "JWT_SECRET"),
        (["--secret-env", "MY_KEY"], {"MY_KEY": SHORT}, "MY_KEY"),
    ],
    ids=["JWT_SECRET", "--secret-env"],
)
def test_a_short_key_is_refused_with_our_own_message(
    argv: list[str],
    env: dict[str, str],
    variable: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, seen = _token(argv, env, monkeypatch)
    out, err = capsys.readouterr()
    assert code == 2, err
    assert out == ""
    assert f"{variable} is 12 bytes" in err, err
    assert "at least 32 bytes" in err and "HS256" in err, err
    assert "openssl rand -hex 32" in err, err
    assert SHORT not in err
    assert not [w for w in seen if "jwt" in str(w.category).lower()], [str(w) for w in seen]


def test_a_key_of_32_bytes_signs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The minimum is in bytes as HS256's is: 16 two-byte characters are enough."""
    code, seen = _token(["--secret-env", "MY_KEY"], {"MY_KEY": "é" * 16}, monkeypatch)
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.count(".") == 2, out
    assert not seen, [str(w) for w in seen]


def test_secret_env_replaces_a_short_jwt_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With --secret-env the key is MY_KEY's: a short JWT_SECRET beside it is not in play."""
    code, _ = _token(
        ["--secret-env", "MY_KEY"], {"MY_KEY": "k" * 32, "JWT_SECRET": SHORT}, monkeypatch
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.count(".") == 2, out
