"""PostgreSQL for the migration suite: a throwaway local cluster, an external server or Docker.

`local` (default) runs initdb + pg_ctl from the Debian packages (/usr/lib/postgresql/*/bin,
newest version first) in a temp dir under /tmp, on a free loopback port, with fsync off and
the unix socket inside the temp dir. initdb refuses to run as root, so as root both run as
the `postgres` user through runuser (every parent folder must be readable by that user,
which is why the dir is `mkdtemp(dir="/tmp")`, never pytest's 0700 tmp_path).
`external` reads HARNESS_POSTGRES_URL; `docker` uses testcontainers after a cheap ping.

`create_database()` makes a fresh database (from template0) on any of them, so tests never
share state; databases it made are dropped on `stop()` (important on a shared server).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

import psycopg
from sqlalchemy.engine import make_url

from crownsafe.db.session import normalize_database_url
from harness.services.base import ProvisionMode, Service, ServiceStartError, free_port, tail
from harness.settings import read_settings

__all__ = ["EXTERNAL_URL_ENV", "PostgresService", "find_pg_bindir"]

EXTERNAL_URL_ENV = "HARNESS_POSTGRES_URL"
DOCKER_IMAGE = "postgres:16-alpine"
_SERVER_OPTIONS = (
    "-c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
    "-c full_page_writes=off -c max_connections=200"
)


def find_pg_bindir() -> Path | None:
    """The newest /usr/lib/postgresql/<v>/bin with initdb and pg_ctl (or HARNESS_PG_BIN)."""
    override = read_settings().pg_bin
    candidates = [override] if override else []

    def version(path: str) -> tuple[int, ...]:
        return tuple(int(p) for p in re.findall(r"\d+", Path(path).parent.name)) or (0,)

    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(str(Path(on_path).parent))
    for folder in candidates:
        if (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    return None


class PostgresService(Service):
    """One PostgreSQL server; `.url` is a SQLAlchemy URL (postgresql+psycopg://...)."""

    name = "postgres"

    def __init__(
        self,
        mode: ProvisionMode = "local",
        *,
        external_url: str | None = None,
        log_dir: Path | None = None,
    ) -> None:
        super().__init__(mode)
        self.external_url = external_url
        self.log_dir = log_dir
        self.url = ""
        self.port = 0
        self.ready_s = 0.0
        self._dir: Path | None = None
        self._bindir: Path | None = None
        self._container: Any = None
        self._created: list[str] = []

    @property
    def pid(self) -> int | None:
        """The postmaster's pid when this service runs it here (its backends are its
        children: benchmarks count their CPU); None in docker or external mode."""
        if self._dir is None:
            return None
        try:
            return int((self._dir / "data" / "postmaster.pid").read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None

    # lifecycle -----------------------------------------------------------------------
    def start(self) -> Self:
        began = time.perf_counter()
        if self.mode == "local":
            self._start_local()
        elif self.mode == "external":
            self._start_external()
        elif self.mode == "docker":
            self._start_docker()
        else:
            raise ServiceStartError(
                "postgres", f"unknown provision mode {self.mode!r}", "use local, external or docker"
            )
        self.ready_s = time.perf_counter() - began
        self.started = True
        return self

    def stop(self) -> None:
        if self.mode == "external":
            for name in reversed(self._created):
                with contextlib.suppress(psycopg.Error):
                    self.drop_database(name)
        self._created.clear()
        if self._container is not None:
            with contextlib.suppress(Exception):
                self._container.stop()
            self._container = None
        if self._dir is not None:
            self._stop_local()
        self.started = False

    def env(self) -> dict[str, str]:
        return {"DATABASE_URL": self.url}

    def harness_env(self) -> dict[str, str]:
        """What a child harness run needs to use this server with --provision external."""
        return {EXTERNAL_URL_ENV: self.url}

    def describe(self) -> str:
        """The endpoint without credentials (for services.json and messages)."""
        return make_url(self.url).render_as_string(hide_password=True) if self.url else ""

    # databases -----------------------------------------------------------------------
    def create_database(self, name: str | None = None) -> str:
        """Create an empty database (from template0, UTF8); return its SQLAlchemy URL."""
        name = name or f"crownsafe_test_{uuid.uuid4().hex[:12]}"
        with self._admin() as conn:
            conn.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")
        self._created.append(name)
        return make_url(self.url).set(database=name).render_as_string(hide_password=False)

    def drop_database(self, name: str) -> None:
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if name in self._created:
            self._created.remove(name)

    def _admin(self) -> psycopg.Connection[Any]:
        return psycopg.connect(_libpq_url(self.url), autocommit=True, connect_timeout=10)

    # modes ---------------------------------------------------------------------------
    def _start_local(self) -> None:
        bindir = find_pg_bindir()
        if bindir is None:
            raise ServiceStartError(
                "postgres",
                "initdb/pg_ctl not found in /usr/lib/postgresql/*/bin or on PATH",
                "apt-get install -y postgresql (or set HARNESS_PG_BIN to the folder holding "
                "initdb and pg_ctl, or use --provision external/docker)",
            )
        self._bindir = bindir
        self._dir = Path(tempfile.mkdtemp(prefix="crownsafe-pg-", dir="/tmp"))
        if os.geteuid() == 0:
            try:
                entry = pwd.getpwnam("postgres")
            except KeyError:
                self._remove_dir()
                raise ServiceStartError(
                    "postgres",
                    "running as root and there is no 'postgres' user to run initdb as",
                    "apt-get install -y postgresql (creates the user) or run as a non-root user",
                ) from None
            os.chown(self._dir, entry.pw_uid, entry.pw_gid)
        self._dir.chmod(0o700)
        self.port = free_port()
        data, log = self._dir / "data", self._dir / "postgres.log"
        self._run(
            [
                str(bindir / "initdb"),
                *("-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"),
                *("--locale=C.UTF-8", "--no-sync"),
            ],
            "initdb failed",
        )
        options = f"-p {self.port} -k {self._dir} {_SERVER_OPTIONS}"
        pg_ctl = [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "30"]
        self._run(
            [*pg_ctl, "-o", options, "start"],
            "pg_ctl start failed",
        )
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, argv: list[str], why: str) -> None:
        assert self._dir is not None
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        done = subprocess.run(argv, capture_output=True, text=True, cwd=self._dir, check=False)
        if done.returncode != 0:
            log_tail = tail(self._dir / "postgres.log") or (done.stderr + done.stdout)[-3000:]
            self._stop_local()
            raise ServiceStartError(
                "postgres",
                f"{why} (exit {done.returncode})",
                "check the log below; the temp dir must be readable by the postgres user",
                log_tail,
            )

    def _stop_local(self) -> None:
        assert self._dir is not None
        data = self._dir / "data"
        if self.log_dir is not None and (self._dir / "postgres.log").exists():
            self.log_dir.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self._dir / "postgres.log", self.log_dir / "postgres.log")
        if (data / "postmaster.pid").exists() and self._bindir is not None:
            argv = [str(self._bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]
            if os.geteuid() == 0:
                argv = ["runuser", "-u", "postgres", "--", *argv]
            done = subprocess.run(argv, capture_output=True, check=False, timeout=30)
            if done.returncode != 0:
                _kill_postmaster(data / "postmaster.pid")
        self._remove_dir()

    def _remove_dir(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def _start_external(self) -> None:
        raw = self.external_url or read_settings().postgres_url
        if not raw:
            raise ServiceStartError(
                "postgres",
                f"--provision external needs {EXTERNAL_URL_ENV}",
                f"export {EXTERNAL_URL_ENV}=postgresql+psycopg://user@host:5432/postgres",
            )
        self.url = normalize_database_url(raw)
        self.port = make_url(self.url).port or 5432
        try:
            with self._admin() as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as exc:
            raise ServiceStartError(
                "postgres",
                f"cannot connect to {make_url(self.url)!r}: {type(exc).__name__}",
                f"check {EXTERNAL_URL_ENV} (host, port, user, password) and that the server runs",
            ) from None

    def _start_docker(self) -> None:
        client = None
        try:
            _docker_socket_answers()
            import docker

            client = docker.from_env(version="1.24")  # no version probe in the constructor
            client.ping()
        except Exception as exc:
            raise ServiceStartError(
                "postgres",
                f"no Docker engine answered ({type(exc).__name__})",
                "start Docker (or set DOCKER_HOST), or use --provision local",
            ) from None
        finally:
            if client is not None:
                client.close()
        from testcontainers.community.postgres import PostgresContainer

        self._container = PostgresContainer(DOCKER_IMAGE, driver="psycopg", dbname="postgres")
        self._container.start()
        self.url = self._container.get_connection_url()
        self.port = int(make_url(self.url).port or 5432)


def _libpq_url(url: str) -> str:
    """A SQLAlchemy URL as a libpq conninfo URL (drop the +driver)."""
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


def _docker_socket_answers() -> None:
    """Connect to the engine's socket ourselves first (closing it properly): the Docker
    SDK leaks its socket when the connect fails, which pytest reports as an error."""
    host = read_settings().docker_host
    parsed = urlsplit(host)
    if parsed.scheme in ("unix", ""):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(2)
            sock.connect(parsed.path or host)
    elif parsed.hostname:
        with socket.create_connection((parsed.hostname, parsed.port or 2375), timeout=2):
            pass


def _kill_postmaster(pid_file: Path) -> None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        pid = int(pid_file.read_text().splitlines()[0])
        os.kill(pid, signal.SIGKILL)
