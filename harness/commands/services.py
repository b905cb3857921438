"""`crownsafe-harness services up`: start emulators for manual use and print their exports."""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
import threading
from types import FrameType
from typing import TYPE_CHECKING, Any, cast

from crownsafe.cli_output import json_stdout
from crownsafe.config import BACKENDS, Settings
from crownsafe.redaction import redact
from harness.commands.arguments import non_negative_float, service_list
from harness.services.base import PROVISION_MODES, ProvisionMode, ServiceStartError
from harness.services.provision import ProvisionedServices, start_services
from harness.settings import process_environment

if TYPE_CHECKING:
    from harness.commands.app_up import RunningApp

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

    defaults, env = Settings(), process_environment()
    names = {
        "azure": env.get("AZURE_STORAGE_CONTAINER") or defaults.azure_storage_container,
        "s3": env.get("S3_BUCKET") or defaults.s3_bucket,
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


def _document(
    services: ProvisionedServices, exports: dict[str, str], app: RunningApp | None
) -> dict[str, Any]:
    """What `--json` prints: see JSON_HELP for the keys."""
    return {
        "schema_version": JSON_SCHEMA_VERSION,
        "status": "ready",
        "pid": os.getpid(),
        "provision": services.mode,
        "ready_s": round(services.parallel_ready_s, 3),
        "services": [
            {
                "name": t.name,
                "mode": t.mode,
                "endpoint": redact(t.endpoint),
                "ready_s": round(t.ready_s, 3),
            }
            for t in services.timings
        ],
        "env": exports,
        "app": app.describe() if app is not None else None,
        "stop": "send SIGINT or SIGTERM to pid: the services stop and the command exits 0",
    }


def _up(args: argparse.Namespace) -> int:
    if args.with_app:
        from harness.commands.app_up import with_app_services

        args.services = with_app_services(args.services, args.backend)
    with StopSignals() as signals, json_stdout(args.json) as out:
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
            where = "in the JSON on stdout" if args.json else "below"
            _say(f"# all ready in {services.parallel_ready_s:.2f} s; emulator credentials {where}")
            exports = _exports(services, storage)
            if not args.json:
                _print_exports(exports)
            app: RunningApp | None = None
            if args.with_app:
                from harness.commands.app_up import start_app

                app = start_app(services, args.backend, _say)
                if app is None:
                    return 1
                if not args.json:
                    _print_exports(app.exports)
                    _say(
                        '# try: curl -H "Authorization: Bearer $CROWNSAFE_TOKEN" '
                        "$CROWNSAFE_API_URL/scans"
                    )
            if args.json:
                out.emit(_document(services, {**exports, **(app.exports if app else {})}, app))
            _say("# Ctrl-C (SIGINT) or SIGTERM stops the services")
            try:
                if not signals.stop.is_set():
                    signals.wait(args.seconds)
            finally:
                if app is not None:
                    app.stack.stop()
        _say("# services stopped")
    return 0


def _print_exports(exports: dict[str, str]) -> None:
    for name, value in exports.items():
        _say(f"export {name}={shlex.quote(value)}")


JSON_SCHEMA_VERSION = 1
JSON_HELP = (
    "print one JSON object on stdout once everything is ready, instead of the export lines "
    "(progress and comments go to stderr), then keep running as without it. Keys: "
    "schema_version (1), status ('ready'), pid (send it SIGINT or SIGTERM to stop), "
    "provision, ready_s, services (name, mode, endpoint, ready_s per service), env (the "
    "variables the export lines set), app (null, or backend, url, docs_url, logs, "
    "token_user, token_ttl_s with --with-app), stop. env holds credentials on purpose: "
    "the started emulators' keys and, with --with-app, JWT_SECRET and CROWNSAFE_TOKEN, "
    "since a caller that asks for the environment needs them; no other key holds a secret"
)


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
        "their connection details (or, with --json, one JSON object), and stop them on "
        "Ctrl-C or SIGTERM. Exit 0 when stopped by a signal or --seconds, 1 when a service "
        "or the app did not start, 2 usage error.",
    )
    up.add_argument(
        "--services",
        type=service_list,
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
        choices=BACKENDS,
        default=None,
        help="the API's storage backend with --with-app (default: the first one started)",
    )
    up.add_argument(
        "--seconds",
        type=non_negative_float,
        default=None,
        help="stop the services after this many seconds (default: wait for Ctrl-C)",
    )
    up.add_argument("--json", action="store_true", help=JSON_HELP)
    up.set_defaults(handler=_up)
