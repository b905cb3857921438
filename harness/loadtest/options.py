"""The options of one `crownsafe-harness load` invocation, checked before anything starts.

`parse_options(args)` turns argparse's namespace into a `LoadOptions`; every combination
that cannot work raises `LoadUsageError` naming the option and the fix (exit 2).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from crownsafe.config import BACKENDS, check_jwt_secret
from crownsafe.errors import ConfigError
from harness.runfolder.load import LoadMode
from harness.settings import default_of, process_environment, read_settings

__all__ = [
    "BACKEND_CHOICES",
    "DEFAULT_SLO_FILE",
    "DEFAULT_SOAK_BOUND_MIB_PER_H",
    "MIN_STEP_USERS",
    "MIX",
    "SOAK_BOUND_VARIABLE",
    "LoadOptions",
    "LoadUsageError",
    "parse_duration",
    "parse_options",
]

BACKEND_CHOICES = (*BACKENDS, "both")
MIX = {"readers": 4, "uploaders": 3, "sharers": 2, "reporters": 1}
"""The locust users' weights (load/scenarios/*.py); a test checks they match."""
MIN_STEP_USERS = sum(MIX.values())
"""Fewest users of a step: with fewer, locust leaves a family of the mix without a user
and its endpoints are never measured, so the knee would not cover the whole mix."""
DEFAULT_SLO_FILE = Path("load/slos.toml")
SOAK_BOUND_VARIABLE = "HARNESS_LOAD_SOAK_BOUND_MIB_PER_H"
"""Overrides the default of `--soak-bound` (MiB of RSS growth per hour)."""
DEFAULT_SOAK_BOUND_MIB_PER_H = float(default_of(SOAK_BOUND_VARIABLE))

Role = Literal["all", "master", "worker"]


_TIMESPAN = re.compile(r"^(?:(?P<h>\d+)h)?\s*(?:(?P<m>\d+)m)?\s*(?:(?P<s>\d+)s)?$")
"""locust's time strings (`-t`): 1h30m, 20m, 45s, or plain seconds. Parsed here: importing
locust in this process would monkey-patch it with gevent."""


class LoadUsageError(ValueError):
    """A bad argument or combination: what is wrong and how to fix it (exit 2)."""


def parse_duration(text: str, option: str) -> float:
    """'20s', '5m', '1h30m' or plain seconds -> seconds (> 0); LoadUsageError otherwise."""
    text = text.strip()
    match = _TIMESPAN.match(text)
    if text.isdigit():
        seconds = float(text)
    elif text and match:
        h, m, sec = (int(match.group(k) or 0) for k in "hms")
        seconds = float(h * 3600 + m * 60 + sec)
    else:
        seconds = -1.0
    if seconds <= 0:
        raise LoadUsageError(
            f"{option} {text!r} is not a duration: give e.g. 20s, 5m or 1h30m (more than 0)"
        )
    return seconds


@dataclass(frozen=True)
class LoadOptions:
    """Everything the load command needs, validated."""

    backends: tuple[str, ...] = BACKENDS
    mode: LoadMode = "duration"
    duration_s: float | None = 20.0
    iterations: int | None = None
    users: int = 10
    spawn_rate: float = 10.0
    steps: tuple[int, ...] = ()
    step_seconds: float = 15.0
    step_warmup_s: float = 3.0
    soak_bound_mib_per_h: float = DEFAULT_SOAK_BOUND_MIB_PER_H
    processes: int = 0
    role: Role = "all"
    master_host: str = "127.0.0.1"
    master_port: int = 5557
    master_bind_host: str = "127.0.0.1"
    expect_workers: int = 0
    web: bool = False
    web_port: int = 8089
    api_workers: int = 1
    host: str | None = None
    jwt_secret: str | None = None
    slo_file: Path = DEFAULT_SLO_FILE
    run_dir: Path | None = None
    json: bool = False
    extra: tuple[str, ...] = field(default_factory=tuple)

    @property
    def external(self) -> bool:
        """An app somebody else runs (`--host`): no stack is started."""
        return self.host is not None

    @property
    def generator_processes(self) -> int:
        """Locust processes on this machine: the master plus its local workers."""
        return 1 + self.processes


def _backends(given: Sequence[str] | None) -> tuple[str, ...]:
    chosen: list[str] = []
    for name in given or ["both"]:
        for part in name.split(","):
            part = part.strip().lower()
            if part not in BACKEND_CHOICES:
                raise LoadUsageError(
                    f"--backend {part!r} is not a backend: choose {', '.join(BACKENDS)} or both"
                )
            for backend in BACKENDS if part == "both" else (part,):
                if backend not in chosen:
                    chosen.append(backend)
    return tuple(chosen)


def _positive(value: float | None, option: str, *, zero: bool = False) -> None:
    if value is not None and (value < 0 or (value == 0 and not zero)):
        floor = "0 or more" if zero else "more than 0"
        raise LoadUsageError(f"{option} {value:g} is out of range: give {floor}")


def _mode(args: argparse.Namespace) -> LoadMode:
    given = [
        name
        for name, value in (
            ("--duration", args.duration),
            ("--iterations", args.iterations),
            ("--step", args.step),
            ("--soak", args.soak),
        )
        if value is not None
    ]
    if len(given) > 1:
        raise LoadUsageError(
            f"{' and '.join(given)} exclude each other: a run is one of a plain run "
            "(--duration or --iterations), a step load (--step) or a soak (--soak)"
        )
    if args.soak is not None:
        return "soak"
    if args.step is not None:
        return "step"
    return "iterations" if args.iterations is not None else "duration"


def _external(args: argparse.Namespace, environ: Mapping[str, str]) -> tuple[str | None, ...]:
    """(host, secret) of an external app or a worker; a secret too short for HS256 is a
    usage error here, not a PyJWT warning in every simulated user."""
    host, secret = _host_and_secret(args, environ)
    try:
        check_jwt_secret(secret or "", "--jwt-secret" if args.jwt_secret else "JWT_SECRET")
    except ConfigError as exc:
        raise LoadUsageError(str(exc)) from None
    return host, secret


def _host_and_secret(
    args: argparse.Namespace, environ: Mapping[str, str]
) -> tuple[str | None, str | None]:
    secret = args.jwt_secret or environ.get("JWT_SECRET") or None
    if args.worker:
        if not secret:
            raise LoadUsageError(
                "--worker needs the app's JWT secret: JWT_SECRET in the environment (or "
                "--jwt-secret), the same as on the master; the host comes from the master"
            )
        return None, secret
    if args.host is None:
        if args.jwt_secret:
            raise LoadUsageError(
                "--jwt-secret only goes with --host (an external app); without --host the "
                "command starts its own app with a fresh secret"
            )
        return None, None
    parts = urlsplit(args.host)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise LoadUsageError(
            f"--host {args.host!r} is not a base URL: give e.g. https://api.example.com"
        )
    if not secret:
        raise LoadUsageError(
            "--host needs the app's JWT secret: --jwt-secret SECRET or JWT_SECRET in the "
            "environment (each simulated user mints its own token with it)"
        )
    return args.host.rstrip("/"), secret


def _steps(text: str | None) -> tuple[int, ...]:
    if text is None:
        return ()
    try:
        users = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        users = ()
    if not users or any(u <= 0 for u in users):
        raise LoadUsageError(
            f"--step {text!r} is not a list of user counts: give e.g. --step 10,20,40"
        )
    if list(users) != sorted(set(users)):
        raise LoadUsageError(f"--step {text!r}: the user counts must increase step by step")
    if users[0] < MIN_STEP_USERS:
        mix = ", ".join(f"{family} {weight}" for family, weight in MIX.items())
        raise LoadUsageError(
            f"--step {text!r}: the first step has {users[0]} users, fewer than the "
            f"{MIN_STEP_USERS} the mix ({mix}) needs to give every family a user; start at "
            f"{MIN_STEP_USERS} or more, e.g. --step {MIN_STEP_USERS},{2 * MIN_STEP_USERS},"
            f"{4 * MIN_STEP_USERS}"
        )
    return users


def _soak_bound(args: argparse.Namespace, environ: Mapping[str, str]) -> float:
    if args.soak_bound is not None:
        bound = float(args.soak_bound)
    else:
        raw = read_settings(environ).load_soak_bound
        try:
            bound = float(raw)
        except ValueError:
            raise LoadUsageError(
                f"{SOAK_BOUND_VARIABLE}={raw!r} is not a number of MiB per hour"
            ) from None
    _positive(bound, "--soak-bound")
    if args.soak_bound is not None and args.soak is None:
        raise LoadUsageError("--soak-bound only applies to a soak: add --soak DURATION")
    return bound


def _role(args: argparse.Namespace) -> Role:
    if args.master and args.worker:
        raise LoadUsageError("--master and --worker exclude each other: one role per machine")
    if args.worker:
        if not args.master_host:
            raise LoadUsageError("--worker needs --master-host H: the machine running --master")
        return "worker"
    if args.master_host and not args.master:
        raise LoadUsageError("--master-host only goes with --worker")
    return "master" if args.master else "all"


def parse_options(
    args: argparse.Namespace, environ: Mapping[str, str] | None = None
) -> LoadOptions:
    """Validate the parsed arguments; LoadUsageError says what is wrong and the fix."""
    env = process_environment() if environ is None else environ
    mode = _mode(args)
    role = _role(args)
    host, secret = _external(args, env)
    steps = _steps(args.step)
    _positive(args.users, "--users")
    _positive(args.spawn_rate, "--spawn-rate")
    _positive(args.iterations, "--iterations")
    _positive(args.processes, "--processes", zero=True)
    _positive(args.api_workers, "--api-workers")
    _positive(args.expect_workers, "--expect-workers", zero=True)
    if args.web and role == "worker":
        raise LoadUsageError("--web is the master's UI: drop it on a --worker")
    if args.web and args.json:
        raise LoadUsageError("--web and --json exclude each other (the UI has no summary)")
    if args.api_workers != 1 and host is not None:
        raise LoadUsageError("--api-workers applies to the app this command starts, not --host")
    if role == "master" and not args.expect_workers:
        raise LoadUsageError(
            "--master needs --expect-workers N: how many remote workers to wait for"
        )
    if role == "master" and host is None:
        raise LoadUsageError(
            "--master needs --host URL and --jwt-secret: the app must be reachable from "
            "every machine (the app this command starts listens on 127.0.0.1 only)"
        )
    if role == "worker" and args.run_dir:
        raise LoadUsageError("--run-dir goes on the master: a --worker writes nothing")
    if args.step_seconds is not None and not steps:
        raise LoadUsageError("--step-seconds only applies to a step load: add --step USERS,...")
    _positive(args.step_seconds, "--step-seconds")
    _positive(args.step_warmup, "--step-warmup", zero=True)
    if steps and args.step_warmup is not None and args.step_warmup >= (args.step_seconds or 15):
        raise LoadUsageError("--step-warmup must be shorter than --step-seconds")
    duration: float | None = None
    if mode == "duration":
        duration = parse_duration(args.duration or "20s", "--duration")
    elif mode == "soak":
        duration = parse_duration(args.soak, "--soak")
    slo_file = Path(args.slo_file) if args.slo_file else DEFAULT_SLO_FILE
    if role != "worker" and not slo_file.is_file():
        raise LoadUsageError(
            f"--slo-file {slo_file} does not exist: give the SLO file to check "
            f"(default {DEFAULT_SLO_FILE}, run from the repository root)"
        )
    users = int(args.users)
    return LoadOptions(
        backends=_backends(args.backend),
        mode=mode,
        duration_s=duration,
        iterations=args.iterations,
        users=users,
        spawn_rate=float(args.spawn_rate) if args.spawn_rate is not None else float(users),
        steps=steps,
        step_seconds=float(args.step_seconds or 15.0),
        step_warmup_s=float(3.0 if args.step_warmup is None else args.step_warmup),
        soak_bound_mib_per_h=_soak_bound(args, env),
        processes=int(args.processes),
        role=role,
        master_host=args.master_host or "127.0.0.1",
        master_port=int(args.master_port),
        master_bind_host=args.master_bind_host or ("0.0.0.0" if role == "master" else "127.0.0.1"),
        expect_workers=int(args.expect_workers or 0),
        web=bool(args.web),
        web_port=int(args.web_port),
        api_workers=int(args.api_workers),
        host=host,
        jwt_secret=secret,
        slo_file=slo_file,
        run_dir=Path(args.run_dir) if args.run_dir else None,
        json=bool(args.json),
    )
