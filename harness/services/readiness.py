"""Readiness polling and the Docker engine check the service providers share.

A provider passes a probe (raises while the service does not answer yet) and, for a local
process, a liveness check; tenacity does the polling so no provider writes its own loop.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from http.client import HTTPConnection, HTTPException, HTTPSConnection
from pathlib import Path
from typing import Protocol, TypeVar
from urllib.parse import urlsplit

from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_fixed

from harness.services.base import (
    ManagedService,
    ServiceProcess,
    ServiceStartError,
    free_port,
    tail,
)

__all__ = [
    "NotReadyError",
    "ProcessExitedError",
    "launch_local",
    "probe_http",
    "require_docker_engine",
    "start_container",
    "wait_or_fail",
    "wait_until_ready",
]


class NotReadyError(Exception):
    """The service does not answer yet (the probe will be tried again)."""


class ProcessExitedError(Exception):
    """The service's process exited while we waited for it (not retried)."""


def wait_until_ready(
    probe: Callable[[], None],
    *,
    timeout: float,
    interval: float = 0.05,
    exit_code: Callable[[], int | None] | None = None,
) -> None:
    """Call `probe` until it returns without raising `NotReadyError`, or `timeout` passes.

    `exit_code` (for a local process) returns the exit code once the process has exited:
    then waiting stops at once with `ProcessExitedError` instead of running into the timeout.
    The last `NotReadyError` is re-raised when the timeout passes.
    """

    def attempt() -> None:
        if exit_code is not None:
            code = exit_code()
            if code is not None:
                raise ProcessExitedError(f"the process exited with code {code}")
        probe()

    retrying = Retrying(
        stop=stop_after_delay(timeout),
        wait=wait_fixed(interval),
        retry=retry_if_exception_type(NotReadyError),
        reraise=True,
    )
    retrying(attempt)


def require_docker_engine(service: str) -> None:
    """Raise a ServiceStartError unless a Docker engine answers a ping (takes milliseconds)."""
    try:
        import docker

        client = docker.from_env(timeout=5)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:
        raise ServiceStartError(
            service,
            f"--provision docker needs a Docker engine, and none answers ({type(exc).__name__})",
            "start Docker (or set DOCKER_HOST to a running engine), "
            "or use --provision local (the default, no Docker needed)",
        ) from None


class _Container(Protocol):
    def start(self) -> object: ...

    def stop(self) -> object: ...


ContainerT = TypeVar("ContainerT", bound=_Container)


def start_container(service: str, container: ContainerT, what: str, fix: str) -> ContainerT:
    """`container.start()` (a testcontainers container), returned; when it cannot start, the
    container is stopped again and a `ServiceStartError` says "`what` did not start"."""
    try:
        container.start()
    except Exception as exc:
        container.stop()
        raise ServiceStartError(
            service, f"{what} did not start ({type(exc).__name__}: {exc})", fix
        ) from None
    return container


def wait_or_fail(service: ManagedService, why: str, fix: str) -> None:
    """Wait until `service.probe()` passes within its `ready_timeout`; otherwise stop the
    service and raise `ServiceStartError(why, fix)` (for containers and external endpoints,
    which have no process whose exit would end the wait early)."""
    try:
        wait_until_ready(service.probe, timeout=service.ready_timeout, interval=0.25)
    except NotReadyError as exc:
        service.stop()
        raise ServiceStartError(service.name, f"{why} ({exc})", fix) from None


def probe_http(url: str, timeout: float = 2.0) -> None:
    """Raise NotReadyError unless something answers HTTP at `url` (any status counts).

    Uses http.client directly so proxy variables in the environment never get involved.
    """
    parts = urlsplit(url)
    connection_class = HTTPSConnection if parts.scheme == "https" else HTTPConnection
    connection = connection_class(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    try:
        connection.request("GET", parts.path or "/")
        connection.getresponse().read()
    except (OSError, HTTPException) as exc:
        raise NotReadyError(f"{parts.scheme}://{parts.netloc} does not answer: {exc}") from None
    finally:
        connection.close()


_PORT_TAKEN_MARKERS = ("EADDRINUSE", "Address already in use", "address already in use")


def launch_local(
    service: str,
    argv_for_port: Callable[[int], list[str]],
    log_for_port: Callable[[int], Path],
    probe_for_port: Callable[[int], None],
    *,
    timeout: float,
    fix: str,
    env: Mapping[str, str] | None = None,
    attempts: int = 2,
) -> tuple[ServiceProcess, int]:
    """Start a local server process on a free port and wait until it answers.

    A free port can be taken by someone else between our check and the server's bind; when
    the log says so, the start is tried again on another port (up to `attempts` times).
    Whatever fails, the process is stopped before the error leaves this function.
    """
    for attempt in range(1, attempts + 1):
        port = free_port()
        log_path = log_for_port(port)
        process = ServiceProcess(argv_for_port(port), log_path, env=env).start()
        try:
            wait_until_ready(
                functools.partial(probe_for_port, port),
                timeout=timeout,
                exit_code=process.exit_code,
            )
            return process, port
        except ProcessExitedError as exc:
            process.stop()
            log_tail = tail(log_path)
            if attempt < attempts and any(m in log_tail for m in _PORT_TAKEN_MARKERS):
                continue
            raise ServiceStartError(service, str(exc), fix, log_tail) from None
        except NotReadyError as exc:
            process.stop()
            raise ServiceStartError(
                service, f"not ready within {timeout:g} s ({exc})", fix, tail(log_path)
            ) from None
        except BaseException:
            process.stop()
            raise
    raise AssertionError("unreachable")  # pragma: no cover
