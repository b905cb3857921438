"""A Celery worker for the image jobs: a real `celery worker` process (prefork pool).

Started against the provisioned Redis, PostgreSQL and storage (crownsafe's settings in
`settings_env`, the same as the app's). Ready when the worker logs `ready.` (it is
consuming by then); its log is kept for failure messages. `kill()` SIGKILLs the whole
process group (main process and pool children) for redelivery tests; `start()` again
brings up a fresh worker with the same settings.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import tempfile
import uuid
from collections.abc import Mapping
from pathlib import Path

from harness.services.base import (
    ManagedService,
    ProvisionMode,
    ServiceProcess,
    ServiceStartError,
    tail,
)
from harness.services.readiness import NotReadyError, ProcessExitedError, wait_until_ready

__all__ = ["WorkerService"]

_FIX = "read the worker log below; a settings error names the variable to fix"


class WorkerService(ManagedService):
    name = "worker"

    def __init__(
        self,
        mode: ProvisionMode = "local",
        *,
        settings_env: Mapping[str, str] | None = None,
        concurrency: int = 2,
        log_dir: Path | None = None,
        ready_timeout: float = 60.0,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(mode, log_dir=log_dir, ready_timeout=ready_timeout, environ=environ)
        self.settings_env = dict(settings_env or {})
        self.concurrency = max(1, int(concurrency))
        self.starts = 0

    def check_prerequisites(self) -> None:
        if self.mode != "local":
            raise ServiceStartError(
                self.name,
                f"--provision {self.mode} is not supported for the worker",
                "the worker always runs as a local process: use --provision local",
            )

    def describe(self) -> str:
        return f"celery worker pid {self.pid}" if self.pid else "celery worker"

    def _argv(self, node: str) -> list[str]:
        return [
            sys.executable, "-m", "celery", "-A", "crownsafe.tasks.worker", "worker",
            "-P", "prefork", "-c", str(self.concurrency), "-n", node,
            "--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip

    def _start_local(self) -> None:
        if self._workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix="crownsafe-worker-"))
        log_dir = self.log_dir or self._workdir
        log_dir.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        node = f"crownsafe-{uuid.uuid4().hex[:8]}@127.0.0.1"
        log_path = log_dir / f"worker-{node.split('@')[0]}.log"
        env = {**self._environ, **self.settings_env, "PYTHONUNBUFFERED": "1"}
        process = ServiceProcess(self._argv(node), log_path, env=env).start()
        self._process, self.log_path = process, log_path

        def probe() -> None:
            if " ready." not in tail(log_path, 200):
                raise NotReadyError("the worker has not logged `ready.` yet")

        try:
            wait_until_ready(
                probe, timeout=self.ready_timeout, interval=0.1, exit_code=process.exit_code
            )
        except (NotReadyError, ProcessExitedError) as exc:
            process.stop()
            raise ServiceStartError(self.name, str(exc), _FIX, tail(log_path)) from None

    def kill(self) -> None:
        """SIGKILL the worker and its pool children at once (no warm shutdown, no acks)."""
        if self._process is None or self._process.popen is None:
            return
        popen = self._process.popen
        with contextlib.suppress(ProcessLookupError):
            os.killpg(popen.pid, signal.SIGKILL)
        popen.wait(timeout=10)
        self._process = None
        self.started = False

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop(timeout=15)
            self._process = None
        super().stop()
