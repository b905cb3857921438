"""LocalStack's S3: the emulator that checks presigned URLs (moto does not).

`local` runs `localstack-core` 4.13.1 as a plain process from its own virtual environment
(`.venv-localstack`, made by `make bootstrap`: its pins clash with ours), on a free
loopback port, with signature validation on. Every file it writes lands in a throwaway
work folder (FILESYSTEM_ROOT, XDG_CACHE_HOME, HOME and the S3 object store, which LocalStack
hard-codes to /tmp/localstack-s3-storage: the launcher points it at the work folder);
its log is kept in the run folder. `docker` runs the same version's image through
testcontainers; `external` uses `HARNESS_LOCALSTACK_ENDPOINT_URL`. The facts this relies on
are measured in docs/emulators.md.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from http.client import HTTPConnection, HTTPException
from pathlib import Path
from urllib.parse import urlsplit

from harness.services.base import ProvisionMode, ServiceProcess, ServiceStartError
from harness.services.readiness import (
    NotReadyError,
    launch_local,
    require_docker_engine,
    wait_or_fail,
)
from harness.services.s3 import S3Service
from harness.settings import HarnessSettings, process_environment, read_settings

__all__ = [
    "LOCALSTACK_ACCESS_KEY",
    "LOCALSTACK_DOCKER_IMAGE",
    "LOCALSTACK_VERSION",
    "LocalStackService",
    "docker_environment",
    "find_localstack_python",
    "localstack_environment",
    "probe_health",
]

LOCALSTACK_VERSION = "4.13.1"
LOCALSTACK_DOCKER_IMAGE = f"localstack/localstack:{LOCALSTACK_VERSION}"
LOCALSTACK_ACCESS_KEY = "test"
_VENV = ".venv-localstack"
_BOOTSTRAP_FIX = (
    f"run `make bootstrap` (it installs localstack-core {LOCALSTACK_VERSION} into {_VENV}), "
    "or set HARNESS_LOCALSTACK_PYTHON to a Python that has it"
)
_EXTERNAL_FIX = "set HARNESS_LOCALSTACK_ENDPOINT_URL (keys test/test), or use --provision local"
# LocalStack's S3 keeps objects over 512 KiB in a folder it hard-codes; the launcher moves
# it into our work folder before the S3 provider is created (no child processes are made).
_BOOT = (
    "import sys\n"
    "import localstack.services.s3.provider as provider\n"
    "if not hasattr(provider, 'DEFAULT_S3_TMP_DIR'):\n"
    "    sys.exit('crownsafe: this LocalStack has no DEFAULT_S3_TMP_DIR; pin "
    f"localstack-core=={LOCALSTACK_VERSION}')\n"
    "provider.DEFAULT_S3_TMP_DIR = sys.argv.pop(1)\n"
    "from localstack.runtime.main import main\n"
    "main()\n"
)
_OWN_VARIABLES = ("TMPDIR", "SERVICES", "DEBUG", "LS_LOG", "PERSISTENCE", "DOCKER_HOST")


def find_localstack_python(settings: HarnessSettings | None = None) -> Path | None:
    """`HARNESS_LOCALSTACK_PYTHON`, else `.venv-localstack/bin/python` in the cwd or repo."""
    configured = (settings or read_settings()).localstack_python
    if configured:
        return Path(configured)
    repo_root = Path(__file__).resolve().parents[2]
    for root in (Path.cwd(), repo_root):
        candidate = root / _VENV / "bin" / "python"
        if candidate.exists():
            return candidate
    return None


def localstack_environment(
    port: int, workdir: Path, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment of a host-mode LocalStack: S3 only, signatures checked, loopback only.

    OVERRIDE_IN_DOCKER=0 because this machine kind has /.dockerenv (LocalStack would then use
    /var/lib/localstack and 0.0.0.0); GATEWAY_SERVER=hypercorn because the default gateway
    ignores GATEWAY_LISTEN's host and binds 0.0.0.0; DNS_ADDRESS=0 or it serves DNS on port
    53; TMPDIR is dropped (LocalStack reads it as a deprecated setting of its own).
    """
    env = dict(process_environment() if base is None else base)
    for name in _OWN_VARIABLES:
        env.pop(name, None)
    listen = f"127.0.0.1:{port}"
    env.update(
        OVERRIDE_IN_DOCKER="0",
        SERVICES="s3",
        EAGER_SERVICE_LOADING="1",
        S3_SKIP_SIGNATURE_VALIDATION="0",
        DNS_ADDRESS="0",
        DISABLE_EVENTS="1",
        PERSISTENCE="0",
        SKIP_SSL_CERT_DOWNLOAD="1",
        GATEWAY_SERVER="hypercorn",
        GATEWAY_LISTEN=listen,
        LOCALSTACK_HOST=listen,
        FILESYSTEM_ROOT=str(workdir / "filesystem"),
        XDG_CACHE_HOME=str(workdir / "cache"),
        HOME=str(workdir / "home"),
    )
    return env


def probe_health(endpoint_url: str, timeout: float = 2.0) -> None:
    """Raise NotReadyError until LocalStack's health page says S3 is running."""
    parts = urlsplit(endpoint_url)
    connection = HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    try:
        connection.request("GET", "/_localstack/health")
        response = connection.getresponse()
        body = response.read()
    except (OSError, HTTPException) as exc:
        raise NotReadyError(f"{parts.netloc} does not answer: {exc}") from None
    finally:
        connection.close()
    try:
        state = json.loads(body).get("services", {}).get("s3")
    except (ValueError, AttributeError):
        state = None
    if response.status != 200 or state != "running":
        raise NotReadyError(f"health says s3 is {state!r} (HTTP {response.status})")


class LocalStackService(S3Service):
    """LocalStack with only S3, presigned URLs verified; keys are LocalStack's test/test."""

    name = "localstack"
    implementation = "localstack"

    def __init__(
        self,
        mode: ProvisionMode = "local",
        *,
        region: str = "us-east-1",
        log_dir: Path | None = None,
        ready_timeout: float = 60.0,
        stop_timeout: float = 2.0,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(
            mode, region=region, log_dir=log_dir, ready_timeout=ready_timeout, environ=environ
        )
        self.access_key_id = self.secret_access_key = LOCALSTACK_ACCESS_KEY
        self.stop_timeout = stop_timeout
        self.storage_dir: Path | None = None

    def check_prerequisites(self) -> None:
        """Raise ServiceStartError if this mode cannot work here (cheap, no I/O to services)."""
        if self.mode == "local":
            python = find_localstack_python(self.settings)
            if python is None or not python.exists():
                raise ServiceStartError(
                    self.name, f"no LocalStack Python found ({python or _VENV})", _BOOTSTRAP_FIX
                )
        elif self.mode == "external":
            if not self.settings.localstack_endpoint_url:
                raise ServiceStartError(
                    self.name, "HARNESS_LOCALSTACK_ENDPOINT_URL is unset", _EXTERNAL_FIX
                )
        else:
            require_docker_engine(self.name)

    def probe(self) -> None:
        probe_health(self.endpoint_url)

    def _start_local(self) -> None:
        python = find_localstack_python(self.settings)
        assert python is not None  # check_prerequisites ran
        self._workdir = Path(tempfile.mkdtemp(prefix="crownsafe-localstack-"))
        self.storage_dir = self._workdir / "s3-storage"
        log_dir = self.log_dir or self._workdir
        log_dir.mkdir(parents=True, exist_ok=True)
        workdir = self._workdir
        self._process, port = launch_local(
            self.name,
            lambda p: [str(python), "-c", _BOOT, str(workdir / "s3-storage")],
            lambda p: log_dir / f"localstack-{p}.log",
            self._probe_port,
            timeout=self.ready_timeout,
            fix="look at the log below; " + _BOOTSTRAP_FIX,
            env_for_port=lambda p: localstack_environment(p, workdir, self._environ),
        )
        self.log_path = log_dir / f"localstack-{port}.log"
        self._set_endpoint(f"http://127.0.0.1:{port}")

    def _start_docker(self) -> None:
        from testcontainers.community.localstack import LocalStackContainer

        image = self.settings.localstack_image or LOCALSTACK_DOCKER_IMAGE
        container = LocalStackContainer(image=image, region_name=self.region).with_services("s3")
        for key, value in docker_environment().items():
            container.with_env(key, value)
        try:
            container.start()
        except Exception as exc:
            container.stop()
            raise ServiceStartError(
                self.name,
                f"the LocalStack container did not start ({type(exc).__name__})",
                f"check that `docker pull {image}` works (or set HARNESS_LOCALSTACK_IMAGE)",
            ) from None
        self._container = container
        self._set_endpoint(container.get_url())
        wait_or_fail(self, "the LocalStack container does not answer", "check `docker logs`")

    def _start_external(self) -> None:
        self._set_endpoint(self.settings.localstack_endpoint_url)
        wait_or_fail(self, f"{self.endpoint_url} does not answer", _EXTERNAL_FIX)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after `stop_timeout` s: its state is throwaway, and a
        graceful LocalStack shutdown takes ~4 s of mostly waiting."""
        process: ServiceProcess | None = self._process
        if process is not None:
            process.stop(timeout=self.stop_timeout)
        super().stop()


def docker_environment() -> dict[str, str]:
    """What the container needs beyond testcontainers' defaults: signatures checked."""
    return {"S3_SKIP_SIGNATURE_VALIDATION": "0", "EAGER_SERVICE_LOADING": "1"}
