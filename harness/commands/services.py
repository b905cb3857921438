"""`crownsafe-harness services up`: start emulators for manual use and print their exports."""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
import threading
from types import FrameType
from typing import Any, cast

from crownsafe.config import BACKENDS, Settings
from harness.services.base import PROVISION_MODES, ProvisionMode, ServiceStartError
from harness.services.provision import ProvisionedServices, start_services

__all__ = ["register"]


def _say(text: str) -> None:
    print(text, flush=True)


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    """SIGINT and SIGTERM handlers that only set an event, installed explicitly.

    A background job of a non-interactive shell (`crownsafe-harness services up &` in a
    script) starts with SIGINT ignored, and Python then installs no KeyboardInterrupt
    handler: without our own handler Ctrl-C / `kill -INT` would do nothing.
    """

    def __init__(self) -> None:
        self.stop = threading.Event()
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        for signum in STOP_SIGNALS:
            self._previous[signum] = signal.signal(signum, self._on_signal)
        return self

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stop.set()

    def __exit__(self, *exc: object) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)

    def wait(self, seconds: float | None) -> None:
        self.stop.wait(seconds)


def _provision_storage(services: ProvisionedServices) -> dict[str, str]:
    """Create the configured container and bucket (AZURE_STORAGE_CONTAINER / S3_BUCKET
    from the environment, else the defaults) and return the variables that name them."""
    from harness.fixtures.storage import build_storage_client

    defaults = Settings()
    names = {
        "azure": os.environ.get("AZURE_STORAGE_CONTAINER") or defaults.azure_storage_container,
        "s3": os.environ.get("S3_BUCKET") or defaults.s3_bucket,
    }
    exports: dict[str, str] = {}
    for backend, variable in (("azure", "AZURE_STORAGE_CONTAINER"), ("s3", "S3_BUCKET")):
        if backend not in services:
            continue
        client = build_storage_client(services, backend, names[backend])
        try:
            client.create_container(exist_ok=True)
        finally:
            client.close()
        exports[variable] = names[backend]
    return exports


def _exports(services: ProvisionedServices, storage: dict[str, str]) -> dict[str, str]:
    """Everything to paste: crownsafe's settings (STORAGE_BACKEND included), the container
    and bucket, and the HARNESS_* variables of an external-mode harness run."""
    backends = [name for name in BACKENDS if name in services]
    exports = dict(services.env())
    if backends:
        exports["STORAGE_BACKEND"] = backends[0]
    exports.update(storage)
    exports.update(services.harness_env())
    if backends:
        exports["HARNESS_PROVISION"] = "external"
        exports["HARNESS_BACKENDS"] = ",".join(backends)
    return exports


def _up(args: argparse.Namespace) -> int:
    if args.with_app:
        from harness.commands.app_up import with_app_services

        args.services = with_app_services(args.services, args.backend)
    with StopSignals() as signals:
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
            storage = _provision_storage(services)
            _say(f"# all ready in {services.parallel_ready_s:.2f} s; emulator credentials below")
            for name, value in _exports(services, storage).items():
                _say(f"export {name}={shlex.quote(value)}")
            stack = None
            if args.with_app:
                from harness.commands.app_up import start_app

                stack = start_app(services, args.backend, _say)
                if stack is None:
                    return 1
            _say("# Ctrl-C (SIGINT) or SIGTERM stops the services")
            try:
                if not signals.stop.is_set():
                    signals.wait(args.seconds)
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
    actions = services.add_subparsers(
        dest="action", required=True, metavar="ACTION", help="what to do with the services"
    )
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
