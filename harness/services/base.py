"""What every service provider shares: start() -> Self, stop(), context manager, errors.

A provider is one of three modes, chosen per run with `--provision`:
`local` (a process started by the harness, stopped by PID), `docker` (testcontainers) or
`external` (an endpoint given by environment variables).
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self, get_args

from harness.settings import process_environment, read_settings

__all__ = [
    "PROVISION_MODES",
    "ManagedService",
    "ProvisionMode",
    "Service",
    "ServiceProcess",
    "ServiceStartError",
    "free_port",
    "tail",
]

log = logging.getLogger(__name__)

ProvisionMode = Literal["local", "docker", "external"]
PROVISION_MODES: tuple[ProvisionMode, ...] = get_args(ProvisionMode)


class ServiceStartError(RuntimeError):
    """A service could not be started or reached: says which, why, and how to fix it."""

    def __init__(self, service: str, why: str, fix: str, log_tail: str = "") -> None:
        self.service, self.why, self.fix, self.log_tail = service, why, fix, log_tail
        text = f"{service} did not start: {why}. Fix: {fix}"
        if log_tail:
            text += f"\n--- last lines of the {service} log ---\n{log_tail}"
        super().__init__(text)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on `host` right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def tail(path: Path, lines: int = 30) -> str:
    """The last `lines` lines of a log file, or '' if it does not exist."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@dataclass
class ServiceProcess:
    """A child process in its own session, stopped by PID (and its process group)."""

    argv: list[str]
    log_path: Path
    env: Mapping[str, str] | None = None
    cwd: Path | None = None
    popen: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self) -> Self:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as out:
            self.popen = subprocess.Popen(
                self.argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=dict(self.env) if self.env is not None else None,
                cwd=self.cwd,
                start_new_session=True,
            )
        return self

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    def exit_code(self) -> int | None:
        return self.popen.poll() if self.popen else None

    def stop(self, timeout: float = 5.0) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        try:
            os.killpg(self.popen.pid, signal.SIGTERM)
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=timeout)
        except ProcessLookupError:
            pass


class Service:
    """Base of the providers: lifecycle, context manager, and the env vars to export."""

    name = "service"

    def __init__(self, mode: ProvisionMode = "local") -> None:
        self.mode = mode
        self.started = False

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def env(self) -> dict[str, str]:
        """Environment variables that point crownsafe at this service."""
        return {}

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class ManagedService(Service):
    """A service whose mode picks how it starts: `_start_local`, `_start_docker` or
    `_start_external`. What a start made (a process, a container, a work folder) is kept in
    `_process`, `_container` and `_workdir`, and `stop()` undoes exactly that."""

    def __init__(
        self,
        mode: ProvisionMode = "local",
        *,
        log_dir: Path | None = None,
        ready_timeout: float = 15.0,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        if mode not in PROVISION_MODES:
            raise ValueError(
                f"unknown provision mode {mode!r}: use one of {', '.join(PROVISION_MODES)}"
            )
        super().__init__(mode)
        self.log_dir = log_dir
        self.ready_timeout = ready_timeout
        # `_environ` is what child processes get; the harness's own settings come from it
        # once, through harness.settings.
        self._environ = process_environment() if environ is None else environ
        self.settings = read_settings(self._environ)
        self.host = ""
        self.port = 0
        self.log_path: Path | None = None
        self._process: ServiceProcess | None = None
        self._container: Any = None
        self._workdir: Path | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def check_prerequisites(self) -> None:
        """Raise ServiceStartError if this mode cannot work here (cheap, no I/O to services)."""

    def probe(self) -> None:
        """Return when the service answers; raise `readiness.NotReadyError` while it does not."""
        raise NotImplementedError

    def _start_local(self) -> None:
        raise NotImplementedError

    def _start_docker(self) -> None:
        raise NotImplementedError

    def _start_external(self) -> None:
        raise NotImplementedError

    def start(self) -> Self:
        if self.started:
            return self
        self.check_prerequisites()
        starters = {
            "local": self._start_local,
            "docker": self._start_docker,
            "external": self._start_external,
        }
        try:
            starters[self.mode]()
        except BaseException:
            self.stop()
            raise
        self.started = True
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()
            self._process = None
        if self._container is not None:
            self._container.stop()
            self._container = None
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None
        self.started = False
