"""`crownsafe-harness services up`: start emulators for manual use and print their exports."""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import threading
from types import FrameType
from typing import cast

from harness.services.base import PROVISION_MODES, ProvisionMode, ServiceStartError
from harness.services.provision import start_services

__all__ = ["register"]


def _say(text: str) -> None:
    print(text, flush=True)


def _wait_for_interrupt(seconds: float | None) -> None:
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_signal)
    try:
        stop.wait(seconds)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def _up(args: argparse.Namespace) -> int:
    if args.with_app:
        from harness.commands.app_up import with_app_services

        args.services = with_app_services(args.services, args.backend)
    try:
        services = start_services(
            args.services,
            cast(ProvisionMode, args.provision),
            options={"azure": {"https": True, "oauth": True}} if args.https else None,
            on_ready=lambda t: _say(f"# {t.name} ready in {t.ready_s:.2f} s at {t.endpoint}"),
        )
    except ServiceStartError as exc:
        print(exc, file=sys.stderr)
        return 1
    with services:
        _say(f"# all ready in {services.parallel_ready_s:.2f} s; emulator credentials below")
        for name, value in {**services.env(), **services.harness_env()}.items():
            _say(f"export {name}={shlex.quote(value)}")
        stack = None
        if args.with_app:
            from harness.commands.app_up import start_app

            stack = start_app(services, args.backend, _say)
            if stack is None:
                return 1
        _say("# Ctrl-C stops the services")
        try:
            _wait_for_interrupt(args.seconds)
        finally:
            if stack is not None:
                stack.stop()
    _say("# services stopped")
    return 0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `services` (with its `up` action) to the `crownsafe-harness` sub-commands."""
    services = commands.add_parser(
        "services",
        help="start services for manual use",
        description="Start the emulators the suites use, for manual use.",
    )
    actions = services.add_subparsers(dest="action", required=True, metavar="ACTION")
    up = actions.add_parser(
        "up",
        help="start services, print exports, wait for Ctrl-C",
        description="Start the services on free loopback ports, print `export` lines with "
        "their connection details, and stop them on Ctrl-C or SIGTERM.",
    )
    up.add_argument(
        "--services",
        type=lambda s: [n.strip() for n in s.split(",") if n.strip()],
        default=["azure", "s3", "redis"],
        help="comma-separated: azure, s3, redis, postgres (default azure,s3,redis)",
    )
    up.add_argument(
        "--provision",
        choices=[mode for mode in PROVISION_MODES if mode != "external"],
        default="local",
        help="start the services as local processes or in Docker (default: local)",
    )
    up.add_argument("--https", action="store_true", help="Azurite over HTTPS with OAuth")
    up.add_argument(
        "--with-app",
        action="store_true",
        help="also start PostgreSQL, the API and a worker; print the API's URL and a token",
    )
    up.add_argument(
        "--backend",
        choices=("azure", "s3"),
        default=None,
        help="the API's storage backend with --with-app (default: the first one started)",
    )
    up.add_argument(
        "--seconds",
        type=float,
        default=None,
        help="stop the services after this many seconds (default: wait for Ctrl-C)",
    )
    up.set_defaults(handler=_up)
