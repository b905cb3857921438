"""Bad arguments to `crownsafe-harness` and `crownsafe-migrate-objects`: a usage error
(exit 2) that names the argument and what it wants, never a traceback or a value quietly
changed into another."""

from __future__ import annotations

import pytest

from crownsafe.objects import cli as objects_cli
from harness import cli

CASES = [
    (["--bogus"], "unrecognized arguments: --bogus"),
    (["--bogus", "run"], "unrecognized arguments: --bogus"),
    (["run", "--bogus"], "unrecognized arguments: --bogus"),
    (["token", "--bogus"], "unrecognized arguments: --bogus"),
    (["token", "--user", "1", "--bogus=3"], "unrecognized arguments: --bogus=3"),
    (["services", "--bogus"], "unrecognized arguments: --bogus"),
    (["services", "up", "--bogus"], "unrecognized arguments: --bogus"),
    (["bench", "--nonsense"], "unrecognized arguments: --nonsense"),
    (["bench", "--backends", "gcs"], "argument --backends: use a comma-separated subset"),
    (["bench", "--threshold", "-1"], "argument --threshold: must be a number of 0 or more"),
    (["bench", "--noise-floor", "x"], "argument --noise-floor: must be a number of 0 or more"),
    (["services", "up", "--services", "nonsense"], "unknown service 'nonsense'"),
    (["services", "up", "--services", ","], "name at least one service"),
    (["services", "up", "--seconds", "nan"], "argument --seconds: must be a number"),
    (["services", "up", "--backend", "gcs"], "argument --backend: invalid choice"),
    (["run", "--workers", "-3"], "argument --workers: must be a whole number of 0 or more"),
    (["run", "--backends", ""], "argument --backends: use a comma-separated subset"),
    (["token", "--user", "0"], "argument --user: must be a whole number of 1 or more"),
    (["token", "--user", "1", "--ttl", "-5"], "argument --ttl: must be a number greater than 0"),
    (["predeploy", "--stale-minutes", "x"], "argument --stale-minutes: must be a number greater"),
    (["migrate-objects", "--workers", "-2"], "argument --workers: must be a whole number of 1"),
    (["migrate-objects", "--max-attempts", "0"], "argument --max-attempts: must be a whole"),
    (["migrate-objects", "--progress-every", "x"], "argument --progress-every: must be a whole"),
    (["audit", "--operation", "peek"], "argument --operation: invalid choice: 'peek'"),
    (["audit", "--user", "0"], "argument --user: must be a whole number of 1 or more"),
    (["audit", "--limit", "x"], "argument --limit: must be a whole number of 1 or more"),
]


@pytest.mark.parametrize(("argv", "message"), CASES, ids=[" ".join(c[0]) for c in CASES])
def test_bad_argument_is_a_usage_error_that_says_what_is_wrong(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(argv)
    err = capsys.readouterr().err
    assert caught.value.code == 2, err
    assert message in err, err
    assert "Traceback" not in err


def test_the_products_tool_refuses_the_same_values() -> None:
    """`crownsafe-migrate-objects` shares the parser of `crownsafe-harness migrate-objects`."""
    with pytest.raises(SystemExit) as caught:
        objects_cli.main(["--workers", "0"])
    assert caught.value.code == 2


def test_a_missing_argument_is_still_named_when_nothing_is_unknown(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The unknown-option check comes first, but a bare command still asks for what it needs."""
    for argv, message in (([], "required: COMMAND"), (["token"], "required: --user")):
        with pytest.raises(SystemExit) as caught:
            cli.main(argv)
        err = capsys.readouterr().err
        assert caught.value.code == 2, err
        assert message in err, err
