"""Redis: a throwaway `redis-server` process, a Docker container, or an external server.

`local` runs `redis-server` without persistence on a free loopback port (never the
machine's own 6379) and stops it by PID. `external` reads `HARNESS_REDIS_URL`; `docker`
runs the official image with testcontainers. Readiness is a RESP `PING` on a plain socket,
so the harness needs no Redis client library.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from harness.services.base import (
    ManagedService,
    ProvisionMode,
    ServiceProcess,
    ServiceStartError,
)
from harness.services.readiness import (
    NotReadyError,
    launch_local,
    require_docker_engine,
    start_container,
    wait_or_fail,
    wait_until_ready,
)

__all__ = ["REDIS_DOCKER_IMAGE", "RedisService", "redis_ping"]

REDIS_DOCKER_IMAGE = "redis:7-alpine"
_INSTALL_FIX = (
    "apt-get install -y redis-server (`make bootstrap` does this when run as root), "
    "or set HARNESS_REDIS_SERVER to the binary"
)


def redis_ping(host: str, port: int, timeout: float = 1.0) -> None:
    """Raise NotReadyError unless a Redis server at host:port answers PING (or asks for auth)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            reply = sock.recv(64)
    except OSError as exc:
        raise NotReadyError(f"{host}:{port} does not answer: {exc}") from None
    if not (reply.startswith(b"+PONG") or reply.startswith(b"-NOAUTH")):
        raise NotReadyError(f"{host}:{port} answered {reply[:40]!r} to PING")


class RedisService(ManagedService):
    """A Redis server and its URL."""

    name = "redis"

    def __init__(
        self,
        mode: ProvisionMode = "local",
        *,
        log_dir: Path | None = None,
        ready_timeout: float = 15.0,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(mode, log_dir=log_dir, ready_timeout=ready_timeout, environ=environ)
        self.url = ""

    def _binary(self) -> str | None:
        return self.settings.redis_server or shutil.which("redis-server")

    def check_prerequisites(self) -> None:
        """Raise ServiceStartError if this mode cannot work here (cheap, no I/O to services)."""
        if self.mode == "local":
            if self._binary() is None:
                raise ServiceStartError(self.name, "redis-server is not installed", _INSTALL_FIX)
        elif self.mode == "external":
            self._read_external()
        else:
            require_docker_engine(self.name)

    def env(self) -> dict[str, str]:
        """crownsafe's settings for this server (see crownsafe/config.py)."""
        return {"REDIS_URL": self.url}

    def harness_env(self) -> dict[str, str]:
        """Variables that let another harness run use this service with --provision external."""
        return {"HARNESS_REDIS_URL": self.url}

    def describe(self) -> str:
        """The URL without a password."""
        parts = urlsplit(self.url)
        netloc = f"{parts.hostname}:{parts.port}" if parts.port else (parts.hostname or "")
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))

    def probe(self) -> None:
        if self.url.startswith("rediss://"):
            try:
                socket.create_connection((self.host, self.port), timeout=1.0).close()
            except OSError as exc:
                raise NotReadyError(f"{self.describe()} does not answer: {exc}") from None
            return
        redis_ping(self.host, self.port)

    def _set_address(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.url = f"redis://{host}:{port}/0"

    def _start_local(self) -> None:
        self._workdir = Path(tempfile.mkdtemp(prefix="crownsafe-redis-"))
        log_dir = self.log_dir or self._workdir
        log_dir.mkdir(parents=True, exist_ok=True)
        binary = str(self._binary())
        workdir = str(self._workdir)

        def argv(port: int) -> list[str]:
            return [
                binary,
                "--port", str(port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--daemonize", "no",
                "--dir", workdir,
            ]  # fmt: skip

        def probe(port: int) -> None:
            redis_ping("127.0.0.1", port)

        self._process, port = launch_local(
            self.name,
            argv,
            lambda p: log_dir / f"redis-{p}.log",
            probe,
            timeout=self.ready_timeout,
            fix="look at the log below",
        )
        self.log_path = log_dir / f"redis-{port}.log"
        self._set_address("127.0.0.1", port)

    @contextmanager
    def outage(self) -> Iterator[None]:
        """Stop the local server (its process, by PID) for the block, then start it again
        on the same port and wait until it answers: a Redis outage for a drill or a test.
        What it held is gone afterwards (it keeps nothing on disk), as after a real crash."""
        if self.mode != "local" or self._process is None:
            raise ServiceStartError(
                self.name, "an outage can only be staged on a local server",
                "use --provision local (the harness's own redis-server)",
            )  # fmt: skip
        argv, log_path = list(self._process.argv), self._process.log_path
        self._process.stop()
        try:
            yield
        finally:
            self._process = ServiceProcess(argv, log_path).start()
            process = self._process
            wait_until_ready(
                lambda: redis_ping("127.0.0.1", self.port),
                timeout=self.ready_timeout,
                exit_code=process.exit_code,
            )

    def _start_docker(self) -> None:
        from testcontainers.core.container import DockerContainer

        container = DockerContainer(REDIS_DOCKER_IMAGE).with_exposed_ports(6379)
        self._container = start_container(
            self.name,
            container,
            "the Redis container",
            f"check that `docker pull {REDIS_DOCKER_IMAGE}` works",
        )
        self._set_address(container.get_container_host_ip(), int(container.get_exposed_port(6379)))
        wait_or_fail(self, "the Redis container does not answer PING", "check `docker logs`")

    def _read_external(self) -> str:
        url = self.settings.redis_url
        if not url.startswith(("redis://", "rediss://")):
            raise ServiceStartError(
                self.name,
                "--provision external needs HARNESS_REDIS_URL (redis://host:port/db)",
                "set HARNESS_REDIS_URL, or use --provision local",
            )
        return url

    def _start_external(self) -> None:
        self.url = self._read_external()
        parts = urlsplit(self.url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 6379
        wait_or_fail(self, f"{self.describe()} does not answer PING", "check HARNESS_REDIS_URL")
