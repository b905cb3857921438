"""An S3 endpoint: moto's server as a local process, LocalStack in Docker, or a real one.

`local` runs moto's server in its own Python process on a free loopback port (stopped by
PID, werkzeug's per-request log silenced). `external` reads `HARNESS_S3_ENDPOINT_URL`,
`HARNESS_S3_ACCESS_KEY_ID`, `HARNESS_S3_SECRET_ACCESS_KEY` (and `HARNESS_S3_REGION`);
`docker` uses testcontainers' LocalStack container with only S3 enabled.
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from harness.services.base import (
    ManagedService,
    ProvisionMode,
    ServiceStartError,
)
from harness.services.readiness import (
    launch_local,
    probe_http,
    require_docker_engine,
    start_container,
    wait_or_fail,
)

__all__ = ["LOCALSTACK_DOCKER_IMAGE", "MOTO_ACCESS_KEY", "S3Service"]

MOTO_ACCESS_KEY = "testing"
LOCALSTACK_DOCKER_IMAGE = "localstack/localstack:3.8"
_MOTO_BOOT = (
    "import logging, sys\n"
    "logging.getLogger('werkzeug').setLevel(logging.ERROR)\n"
    "from moto.server import main\n"
    "main(sys.argv[1:])\n"
)
_EXTERNAL_FIX = (
    "set HARNESS_S3_ENDPOINT_URL, HARNESS_S3_ACCESS_KEY_ID and HARNESS_S3_SECRET_ACCESS_KEY "
    "(optionally HARNESS_S3_REGION), or use --provision local"
)


class S3Service(ManagedService):
    """An S3 endpoint plus the credentials and region a client needs."""

    name = "s3"

    def __init__(
        self,
        mode: ProvisionMode = "local",
        *,
        region: str = "us-east-1",
        log_dir: Path | None = None,
        ready_timeout: float = 30.0,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(mode, log_dir=log_dir, ready_timeout=ready_timeout, environ=environ)
        self.region = region
        self.access_key_id = MOTO_ACCESS_KEY
        self.secret_access_key = MOTO_ACCESS_KEY
        self.endpoint_url = ""

    def check_prerequisites(self) -> None:
        """Raise ServiceStartError if this mode cannot work here (cheap, no I/O to services)."""
        if self.mode == "local":
            missing = [m for m in ("moto", "flask", "werkzeug") if not _importable(m)]
            if missing:
                raise ServiceStartError(
                    self.name,
                    f"moto's server needs {', '.join(missing)}, not installed in {sys.prefix}",
                    "run `make bootstrap` (pip install -e '.[harness,dev]' with moto[server])",
                )
        elif self.mode == "external":
            self._read_external()
        else:
            require_docker_engine(self.name)

    def env(self) -> dict[str, str]:
        """crownsafe's settings for this endpoint (see crownsafe/config.py)."""
        return {
            "S3_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_REGION": self.region,
        }

    def harness_env(self) -> dict[str, str]:
        """Variables that let another harness run use this service with --provision external."""
        return {
            "HARNESS_S3_ENDPOINT_URL": self.endpoint_url,
            "HARNESS_S3_ACCESS_KEY_ID": self.access_key_id,
            "HARNESS_S3_SECRET_ACCESS_KEY": self.secret_access_key,
            "HARNESS_S3_REGION": self.region,
        }

    def describe(self) -> str:
        """Where the service is, without any secret."""
        return self.endpoint_url

    def probe(self) -> None:
        """Any HTTP answer from the endpoint means the service is up."""
        probe_http(self.endpoint_url)

    def _start_local(self) -> None:
        self._workdir = Path(tempfile.mkdtemp(prefix="crownsafe-moto-"))
        log_dir = self.log_dir or self._workdir
        log_dir.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in self._environ.items() if not k.startswith("MOTO_")}
        self._process, port = launch_local(
            self.name,
            lambda p: [sys.executable, "-c", _MOTO_BOOT, "-H", "127.0.0.1", "-p", str(p)],
            lambda p: log_dir / f"moto-{p}.log",
            self._probe_port,
            timeout=self.ready_timeout,
            fix="look at the log below; `make bootstrap` reinstalls moto[server]",
            env=env,
        )
        self.log_path = log_dir / f"moto-{port}.log"
        self._set_endpoint(f"http://127.0.0.1:{port}")

    def _probe_port(self, port: int) -> None:
        self._set_endpoint(f"http://127.0.0.1:{port}")
        self.probe()

    def _set_endpoint(self, url: str) -> None:
        self.endpoint_url = url.rstrip("/")
        parts = urlsplit(self.endpoint_url)
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if parts.scheme == "https" else 80)

    def _start_docker(self) -> None:
        from testcontainers.community.localstack import LocalStackContainer

        image = self.settings.localstack_image or LOCALSTACK_DOCKER_IMAGE
        container = LocalStackContainer(image=image, region_name=self.region).with_services("s3")
        self._container = start_container(
            self.name,
            container,
            "the LocalStack container",
            f"check that `docker pull {image}` works (or set HARNESS_LOCALSTACK_IMAGE)",
        )
        self.access_key_id = self.secret_access_key = "testcontainers-localstack"
        self._set_endpoint(container.get_url())
        wait_or_fail(self, "the LocalStack container does not answer", "check `docker logs`")

    def _read_external(self) -> tuple[str, str, str, str]:
        settings = self.settings
        values = (
            settings.s3_endpoint_url,
            settings.s3_access_key_id,
            settings.s3_secret_access_key,
        )
        missing = [
            f"HARNESS_S3_{name}"
            for name, value in zip(
                ("ENDPOINT_URL", "ACCESS_KEY_ID", "SECRET_ACCESS_KEY"), values, strict=True
            )
            if not value
        ]
        if missing:
            raise ServiceStartError(
                self.name,
                f"--provision external has no S3 endpoint to use ({', '.join(missing)} unset)",
                _EXTERNAL_FIX,
            )
        region = settings.s3_region or self.region
        return values[0], values[1], values[2], region

    def _start_external(self) -> None:
        endpoint, self.access_key_id, self.secret_access_key, self.region = self._read_external()
        self._set_endpoint(endpoint)
        wait_or_fail(self, f"{self.endpoint_url} does not answer", _EXTERNAL_FIX)


def _importable(module: str) -> bool:
    return importlib.util.find_spec(module) is not None
