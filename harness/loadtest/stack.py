"""What the load runs against, per backend: a fresh stack, or an app somebody else runs.

`load_target(options, backend, log_dir)` is a context manager yielding a `LoadTarget`:
with `--host` just that URL and secret (nothing started); otherwise the backend's emulator,
Redis and PostgreSQL (harness.services, free loopback ports), a fresh container and a
migrated database, the app under uvicorn and a real Celery worker
(`harness.services.stack.start_api_stack`; with `--api-workers N` the app is restarted with
N uvicorn workers). Everything it started is stopped by PID when
the block ends, however it ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from harness.loadtest.options import LoadOptions
from harness.services.app import AppService
from harness.services.provision import ServiceTiming, start_services
from harness.services.stack import start_api_stack

__all__ = ["LoadTarget", "load_target"]


@dataclass(frozen=True)
class LoadTarget:
    """The app's base URL, its JWT secret, and the PIDs of the processes we started."""

    url: str
    jwt_secret: str
    app_pid: int | None = None
    worker_pid: int | None = None
    services: list[str] = field(default_factory=list)


@contextmanager
def load_target(
    options: LoadOptions,
    backend: str,
    log_dir: Path,
    on_ready: Callable[[ServiceTiming], None] | None = None,
) -> Iterator[LoadTarget]:
    """The target of one backend's run (see the module docstring)."""
    if options.host is not None:
        yield LoadTarget(options.host, options.jwt_secret or "")
        return
    with ExitStack() as stack:
        services = start_services(
            [backend, "redis", "postgres"], "local", log_dir=log_dir, on_ready=on_ready
        )
        stack.callback(services.stop)
        api = start_api_stack(
            services,
            services.postgres,
            services.redis.url,
            backend,
            log_dir,
            name="load",
        )
        stack.callback(api.stop)
        if options.api_workers != 1:
            # start_api_stack starts one uvicorn worker: swap in the app with N workers
            api.app.stop()
            api.app = AppService(settings_env=api.env, workers=options.api_workers, log_dir=log_dir)
            api.app.start()
            api.url = api.app.url
        yield LoadTarget(
            api.url,
            api.env["JWT_SECRET"],
            app_pid=api.app.pid,
            worker_pid=api.worker.pid if api.worker is not None else None,
            services=[t.name for t in services.timings],
        )
