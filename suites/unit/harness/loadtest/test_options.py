"""`crownsafe-harness load` options: good combinations parse, bad ones name the fix."""

from __future__ import annotations

import argparse
import ast
import re
from pathlib import Path

import pytest

from harness.cli import build_parser
from harness.loadtest.options import (
    MIN_STEP_USERS,
    MIX,
    LoadUsageError,
    parse_duration,
    parse_options,
)

SLO = "load/slos.toml"


def _parse(*argv: str, environ: dict[str, str] | None = None) -> object:
    args = build_parser().parse_args(["load", "--slo-file", SLO, *argv])
    return parse_options(args, environ or {})


def _namespace(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["load", "--slo-file", SLO, *argv])


def test_defaults_are_both_backends_a_20_s_plain_run() -> None:
    options = parse_options(_namespace(), {})
    assert options.backends == ("azure", "s3")
    assert (options.mode, options.duration_s, options.users, options.spawn_rate) == (
        "duration",
        20.0,
        10,
        10.0,
    )
    assert options.role == "all" and not options.external


def test_backends_repeat_and_both_dedupe_in_order() -> None:
    assert parse_options(_namespace("--backend", "s3"), {}).backends == ("s3",)
    both = parse_options(_namespace("--backend", "s3", "--backend", "both"), {})
    assert both.backends == ("s3", "azure")


def test_step_and_soak_set_the_mode() -> None:
    step = parse_options(_namespace("--step", "10,20,40", "--step-seconds", "8"), {})
    assert (step.mode, step.steps, step.step_seconds) == ("step", (10, 20, 40), 8.0)
    soak = parse_options(_namespace("--soak", "1h30m", "--soak-bound", "12"), {})
    assert (soak.mode, soak.duration_s, soak.soak_bound_mib_per_h) == ("soak", 5400.0, 12.0)


def test_soak_bound_default_comes_from_the_environment() -> None:
    env = {"HARNESS_LOAD_SOAK_BOUND_MIB_PER_H": "7.5"}
    assert parse_options(_namespace("--soak", "10m"), env).soak_bound_mib_per_h == 7.5


def test_external_host_takes_the_secret_from_the_environment() -> None:
    options = parse_options(
        _namespace("--host", "https://api.example.com/"), {"JWT_SECRET": "s" * 32}
    )
    assert options.external and options.host == "https://api.example.com"
    assert options.jwt_secret == "s" * 32


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--duration", "20s", "--step", "10,20"], "exclude each other"),
        (["--duration", "soon"], "is not a duration"),
        (["--duration", "0s"], "is not a duration"),
        (["--step", "10,5"], "must increase"),
        (["--step", "5,10,20"], "the first step has 5 users, fewer than the 10 the mix"),
        (["--step", "a,b"], "not a list of user counts"),
        (["--step-seconds", "5"], "only applies to a step load"),
        (["--soak-bound", "5"], "only applies to a soak"),
        (["--users", "0"], "--users 0 is out of range"),
        (["--processes", "-1"], "--processes -1 is out of range"),
        (["--host", "api.example.com"], "is not a base URL"),
        (["--host", "http://api.example.com"], "needs the app's JWT secret"),
        (["--jwt-secret", "x"], "only goes with --host"),
        (["--host", "http://a.example", "--jwt-secret", "x"], "--jwt-secret is 1 byte; HS256"),
        (["--master"], "--master needs --expect-workers"),
        (["--master", "--expect-workers", "2"], "needs --host URL"),
        (["--worker", "--master-host", "h"], "--worker needs the app's JWT secret"),
        (["--master-host", "h"], "only goes with --worker"),
        (["--web", "--json"], "exclude each other"),
        (["--slo-file", "/nonexistent/slos.toml"], "does not exist"),
    ],
)
def test_bad_arguments_say_what_is_wrong(argv: list[str], message: str) -> None:
    with pytest.raises(LoadUsageError, match=message):
        parse_options(_namespace(*argv), {})


def test_a_worker_needs_the_master_and_the_secret_not_the_host() -> None:
    args = _namespace("--worker", "--master-host", "10.0.0.5")
    options = parse_options(args, {"JWT_SECRET": "k" * 32})
    assert (options.role, options.master_host, options.host) == ("worker", "10.0.0.5", None)
    with pytest.raises(LoadUsageError, match="--worker needs --master-host"):
        parse_options(_namespace("--worker"), {"JWT_SECRET": "k" * 32})


def test_parse_duration_accepts_locust_timespans() -> None:
    assert parse_duration("1h30m", "--soak") == 5400
    assert parse_duration("45", "--duration") == 45


def test_the_default_slo_file_is_the_repository_one() -> None:
    assert Path(SLO).is_file(), "run the unit tests from the repository root"


def test_help_and_parser_agree_on_the_fewest_users_of_a_step(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`load --help` said 10 or more while 5 was accepted: both read MIN_STEP_USERS now."""
    with pytest.raises(SystemExit):
        build_parser().parse_args(["load", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    stated = re.search(r"e\.g\. 10,20,40 \(each (\d+) or more", shown)
    assert stated is not None, shown
    least = int(stated.group(1))
    assert parse_options(_namespace("--step", f"{least},{least * 2}"), {}).steps[0] == least
    with pytest.raises(LoadUsageError, match="the first step has"):
        parse_options(_namespace("--step", f"{least - 1},{least * 2}"), {})


def test_the_mix_is_the_scenarios_weights() -> None:
    weights = {}
    for path in sorted(Path("load/scenarios").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    target = item.targets[0] if isinstance(item, ast.Assign) else None
                    if isinstance(target, ast.Name) and target.id == "weight":
                        weights[node.name] = ast.literal_eval(item.value)
    assert sorted(weights.values(), reverse=True) == sorted(MIX.values(), reverse=True)
    assert sum(weights.values()) == MIN_STEP_USERS
