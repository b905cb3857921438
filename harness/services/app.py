"""The Crown Safe API as a service: uvicorn in its own process, on a free loopback port.

Started against services the harness already provisioned: pass crownsafe's settings as
`settings_env` (storage backend and credentials, DATABASE_URL, REDIS_URL, JWT_SECRET, ...;
see `stack_env`). `workers` > 1 runs uvicorn's process manager and prometheus-client's
multiprocess mode (a fresh PROMETHEUS_MULTIPROC_DIR). Ready when `/health` answers at
all (any status: the app is up; whether its dependencies are is /health's own answer).
`external` mode uses HARNESS_APP_URL instead of starting anything.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from harness.services.base import ManagedService, ProvisionMode, ServiceStartError
from harness.services.readiness import launch_local, probe_http

__all__ = ["BOUNDED_HTTP", "AppService"]

BOUNDED_HTTP = "crownsafe.api.server:BoundedHttpToolsProtocol"
"""uvicorn's httptools protocol with request-head limits (how the app must be served)."""

MALLOC_ENV = {"MALLOC_ARENA_MAX": "2", "MALLOC_MMAP_THRESHOLD_": "262144"}
"""glibc settings for the app process: the upload threads allocate block-sized buffers;
with glibc's default per-thread arenas and its sliding mmap threshold, freed blocks stay
in the heap and RSS grows with the thread count. A fixed 256 KiB mmap threshold returns
them to the OS at once. (Deployments should set the same two variables.)"""

_FIX = (
    "read the app log below; a settings error names the variable to fix "
    "(`make bootstrap` installs the API's packages)"
)


class AppService(ManagedService):
    """uvicorn serving `crownsafe.api.main:app_from_env`; `url` is its base URL."""

    name = "app"
    target: tuple[str, ...] = ("--factory", "crownsafe.api.main:app_from_env")
    """uvicorn's app argument(s); a subclass serving another app changes only this."""

    def __init__(
        self,
        mode: ProvisionMode = "local",
        *,
        settings_env: Mapping[str, str] | None = None,
        workers: int = 1,
        log_dir: Path | None = None,
        ready_timeout: float = 30.0,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(mode, log_dir=log_dir, ready_timeout=ready_timeout, environ=environ)
        self.settings_env = dict(settings_env or {})
        self.workers = max(1, int(workers))
        self.url = ""

    def check_prerequisites(self) -> None:
        if self.mode == "docker":
            raise ServiceStartError(
                self.name,
                "the API has no container image; it runs as a local process",
                "use --provision local (or external with HARNESS_APP_URL)",
            )
        if self.mode == "external" and not self.settings.app_url:
            raise ServiceStartError(
                self.name, "--provision external needs HARNESS_APP_URL", "set HARNESS_APP_URL"
            )

    def env(self) -> dict[str, str]:
        return {"CROWNSAFE_API_URL": self.url}

    def describe(self) -> str:
        return self.url

    def _argv(self, port: int) -> list[str]:
        argv = [sys.executable, "-m", "uvicorn", *self.target]
        argv += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(self.workers)]
        # --no-proxy-headers: the app applies TRUSTED_PROXIES itself; uvicorn's default
        # would believe X-Forwarded-For from any loopback peer (every local client).
        # --http: request heads bounded (431), see crownsafe.api.server
        argv += ["--no-server-header", "--no-proxy-headers", "--http", BOUNDED_HTTP]
        return [*argv, "--timeout-graceful-shutdown", "5"]

    def _process_env(self) -> dict[str, str]:
        env = {k: v for k, v in self._environ.items() if not k.startswith("PROMETHEUS_")}
        env.update(self.settings_env)
        env.setdefault("PYTHONUNBUFFERED", "1")
        for name, value in MALLOC_ENV.items():
            env.setdefault(name, value)
        if self.workers > 1 and self._workdir is not None:
            metrics_dir = self._workdir / "prometheus"
            metrics_dir.mkdir(exist_ok=True)
            env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
        return env

    def _start_local(self) -> None:
        self._workdir = Path(tempfile.mkdtemp(prefix="crownsafe-app-"))
        log_dir = self.log_dir or self._workdir
        log_dir.mkdir(parents=True, exist_ok=True)
        self._process, self.port = launch_local(
            self.name,
            self._argv,
            lambda port: log_dir / f"app-{port}.log",
            lambda port: probe_http(f"http://127.0.0.1:{port}/health"),
            timeout=self.ready_timeout,
            fix=_FIX,
            env=self._process_env(),
        )
        self.host = "127.0.0.1"
        self.log_path = log_dir / f"app-{self.port}.log"
        self.url = f"http://127.0.0.1:{self.port}"

    def _start_external(self) -> None:
        self.url = self.settings.app_url.rstrip("/")
        probe_http(f"{self.url}/health")
