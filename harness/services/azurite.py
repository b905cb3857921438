"""Azurite, the Azure Blob emulator: a local process, a Docker container, or a real account.

`local` runs `node_modules/.bin/azurite-blob` directly (not npx, which does not pass SIGTERM
on) on a free loopback port, in memory by default, and stops it by PID. `https=True` (and
`oauth=True`, which needs HTTPS) makes a self-signed certificate with openssl; clients then
verify against `cert_path`. `external` reads `HARNESS_AZURE_CONNECTION_STRING` (or
`HARNESS_AZURE_ACCOUNT_URL` + `HARNESS_AZURE_ACCOUNT_KEY`); `docker` uses testcontainers.

Outside `crownsafe/storage/azure/` this is the one module importing azure.storage.blob: its
readiness probe lists containers with the raw SDK (retries off), so a probe never goes
through the crownsafe client whose behaviour the suites test.
"""

from __future__ import annotations

import shutil
import subprocess
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
    NotReadyError,
    launch_local,
    require_docker_engine,
    start_container,
    wait_or_fail,
)
from harness.settings import HarnessSettings, read_settings

__all__ = [
    "AZURITE_DOCKER_IMAGE",
    "WELL_KNOWN_ACCOUNT_KEY",
    "WELL_KNOWN_ACCOUNT_NAME",
    "AzuriteService",
    "find_azurite_binary",
]

WELL_KNOWN_ACCOUNT_NAME = "devstoreaccount1"
WELL_KNOWN_ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
AZURITE_DOCKER_IMAGE = "mcr.microsoft.com/azure-storage/azurite:3.35.0"
_BOOTSTRAP_FIX = "run `make bootstrap` (npm ci) in the repository root"
_EXTERNAL_FIX = (
    "set HARNESS_AZURE_CONNECTION_STRING (or HARNESS_AZURE_ACCOUNT_URL and "
    "HARNESS_AZURE_ACCOUNT_KEY), or use --provision local"
)


def find_azurite_binary(settings: HarnessSettings | None = None) -> Path | None:
    """`HARNESS_AZURITE_BIN`, else node_modules/.bin/azurite-blob in the cwd or the repo root."""
    configured = (settings or read_settings()).azurite_bin
    if configured:
        return Path(configured)
    repo_root = Path(__file__).resolve().parents[2]
    for root in (Path.cwd(), repo_root):
        candidate = root / "node_modules" / ".bin" / "azurite-blob"
        if candidate.exists():
            return candidate
    return None


def _parse_connection_string(connection_string: str) -> dict[str, str]:
    """crownsafe's parse (upper-cased keys), a malformed string as a ServiceStartError.

    Imported when used: `crownsafe.storage.azure` loads the Azure SDK, which only an
    external account needs here.
    """
    from crownsafe.errors import StorageConfigError
    from crownsafe.storage.azure import parse_connection_string

    try:
        return parse_connection_string(connection_string)
    except StorageConfigError as exc:
        raise ServiceStartError(
            AzuriteService.name, f"HARNESS_AZURE_CONNECTION_STRING: {exc}", _EXTERNAL_FIX
        ) from None


def _blob_endpoint_of(parts: Mapping[str, str]) -> str:
    """The blob endpoint a connection string's parts (upper-cased keys) name."""
    if parts.get("BLOBENDPOINT"):
        return parts["BLOBENDPOINT"].rstrip("/")
    if parts.get("USEDEVELOPMENTSTORAGE", "").lower() == "true":
        return f"http://127.0.0.1:10000/{WELL_KNOWN_ACCOUNT_NAME}"
    protocol = parts.get("DEFAULTENDPOINTSPROTOCOL", "https")
    suffix = parts.get("ENDPOINTSUFFIX", "core.windows.net")
    return f"{protocol}://{parts.get('ACCOUNTNAME', '')}.blob.{suffix}"


class AzuriteService(ManagedService):
    """Azure Blob endpoint plus the account details a client needs."""

    name = "azurite"

    def __init__(
        self,
        mode: ProvisionMode = "local",
        *,
        in_memory: bool = True,
        location: Path | None = None,
        https: bool = False,
        oauth: bool = False,
        extent_memory_limit_mb: int | None = None,
        debug: bool = False,
        log_dir: Path | None = None,
        ready_timeout: float = 30.0,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(mode, log_dir=log_dir, ready_timeout=ready_timeout, environ=environ)
        self.in_memory = in_memory and location is None
        self.location = location
        self.oauth = oauth
        self.https = https or oauth
        self.extent_memory_limit_mb = extent_memory_limit_mb
        self.debug = debug
        self.account_name = WELL_KNOWN_ACCOUNT_NAME
        self.account_key = WELL_KNOWN_ACCOUNT_KEY
        self.blob_endpoint = ""
        self.cert_path: Path | None = None
        self.key_path: Path | None = None
        self._external_connection_string = ""

    @property
    def connection_string(self) -> str:
        if self._external_connection_string:
            return self._external_connection_string
        protocol = urlsplit(self.blob_endpoint).scheme or "http"
        return (
            f"DefaultEndpointsProtocol={protocol};AccountName={self.account_name};"
            f"AccountKey={self.account_key};BlobEndpoint={self.blob_endpoint};"
        )

    @property
    def account_url(self) -> str:
        return self.blob_endpoint

    def check_prerequisites(self) -> None:
        """Raise ServiceStartError if this mode cannot work here (cheap, no I/O to services)."""
        if self.mode == "local":
            if shutil.which("node") is None:
                raise ServiceStartError(
                    self.name,
                    "Node.js is not installed (Azurite runs on Node 20+)",
                    "install Node.js 20 and npm, then run `make bootstrap`",
                )
            binary = find_azurite_binary(self.settings)
            if binary is None or not binary.exists():
                raise ServiceStartError(
                    self.name, "node_modules/.bin/azurite-blob is missing", _BOOTSTRAP_FIX
                )
            if self.https and shutil.which("openssl") is None:
                raise ServiceStartError(
                    self.name, "https/oauth needs openssl", "apt-get install -y openssl"
                )
        elif self.mode == "external":
            self._read_external()
        else:
            require_docker_engine(self.name)

    def env(self) -> dict[str, str]:
        """crownsafe's settings for this account (see crownsafe/config.py)."""
        values = {
            "AZURE_BLOB_ENABLED": "true",
            "AZURE_STORAGE_CONNECTION_STRING": self.connection_string,
            "AZURE_STORAGE_ACCOUNT_URL": self.blob_endpoint,
            "AZURE_STORAGE_ACCOUNT_NAME": self.account_name,
            "AZURE_STORAGE_ACCOUNT_KEY": self.account_key,
        }
        if self.cert_path is not None:
            values["AZURE_CONNECTION_VERIFY"] = str(self.cert_path)
        return values

    def harness_env(self) -> dict[str, str]:
        """Variables that let another harness run use this service with --provision external."""
        values = {"HARNESS_AZURE_CONNECTION_STRING": self.connection_string}
        if self.cert_path is not None:
            values["HARNESS_AZURE_CONNECTION_VERIFY"] = str(self.cert_path)
        return values

    def describe(self) -> str:
        """Where the service is, without any secret."""
        return self.blob_endpoint

    def probe(self) -> None:
        """One request with SDK retries off; any HTTP answer means the service is up."""
        from azure.core.exceptions import AzureError, HttpResponseError
        from azure.storage.blob import BlobServiceClient

        client = BlobServiceClient.from_connection_string(
            self.connection_string,
            retry_total=0,
            connection_timeout=2,
            read_timeout=5,
            connection_verify=str(self.cert_path) if self.cert_path else True,
        )
        try:
            client.get_service_properties()
        except HttpResponseError:
            return
        except AzureError as exc:
            raise NotReadyError(f"{self.blob_endpoint} does not answer: {exc}") from None
        finally:
            client.close()

    def _start_local(self) -> None:
        self._workdir = Path(tempfile.mkdtemp(prefix="crownsafe-azurite-"))
        if self.https:
            self.cert_path, self.key_path = self._make_certificate(self._workdir)
        log_dir = self.log_dir or self._workdir
        log_dir.mkdir(parents=True, exist_ok=True)
        self._process, self.port = launch_local(
            self.name,
            lambda port: self._argv(port, log_dir),
            lambda port: log_dir / f"azurite-{port}.log",
            self._probe_port,
            timeout=self.ready_timeout,
            fix="look at the log below; `make bootstrap` reinstalls Azurite",
        )
        self.log_path = log_dir / f"azurite-{self.port}.log"
        self._set_endpoint("127.0.0.1", self.port)

    def _argv(self, port: int, log_dir: Path) -> list[str]:
        binary = find_azurite_binary(self.settings)
        argv = [str(binary), "--blobHost", "127.0.0.1", "--blobPort", str(port)]
        argv += ["--silent", "--disableTelemetry", "--skipApiVersionCheck"]
        if self.in_memory:
            argv.append("--inMemoryPersistence")
            if self.extent_memory_limit_mb is not None:
                argv += ["--extentMemoryLimit", str(self.extent_memory_limit_mb)]
        else:
            location = self.location or (self._workdir or log_dir) / "data"
            location.mkdir(parents=True, exist_ok=True)
            argv += ["--location", str(location)]
        if self.https:
            argv += ["--cert", str(self.cert_path), "--key", str(self.key_path)]
        if self.oauth:
            argv += ["--oauth", "basic"]
        if self.debug:
            argv += ["--debug", str(log_dir / f"azurite-{port}.debug.log")]
        return argv

    def _probe_port(self, port: int) -> None:
        self._set_endpoint("127.0.0.1", port)
        self.probe()

    def _set_endpoint(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        scheme = "https" if self.https else "http"
        self.blob_endpoint = f"{scheme}://{host}:{port}/{self.account_name}"

    def _make_certificate(self, directory: Path) -> tuple[Path, Path]:
        cert, key = directory / "cert.pem", directory / "key.pem"
        argv = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"]
        argv += ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
        argv += ["-keyout", str(key), "-out", str(cert)]
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise ServiceStartError(
                self.name,
                "openssl could not make the self-signed certificate for https",
                "check that `openssl req -x509` works on this machine (OpenSSL 1.1.1+)",
                result.stderr[-2000:],
            )
        return cert, key

    def _start_docker(self) -> None:
        from testcontainers.community.azurite import AzuriteContainer

        container = AzuriteContainer(image=AZURITE_DOCKER_IMAGE, blob_service_port=10000)
        container.with_command(
            "azurite-blob --blobHost 0.0.0.0 --blobPort 10000 --inMemoryPersistence "
            "--disableTelemetry --skipApiVersionCheck"
        )
        self._container = start_container(
            self.name,
            container,
            "the Azurite container",
            f"check that `docker pull {AZURITE_DOCKER_IMAGE}` works",
        )
        self._set_endpoint(
            container.get_container_host_ip(), int(container.get_exposed_port(10000))
        )
        wait_or_fail(self, "the Azurite container does not answer", "check `docker logs`")

    def _read_external(self) -> dict[str, str]:
        """The external account as connection-string parts (upper-cased keys), plus
        CONNECTION_STRING when one was given."""
        settings = self.settings
        connection_string = settings.azure_connection_string
        if connection_string:
            parts = _parse_connection_string(connection_string)
            if not parts.get("ACCOUNTNAME") and not parts.get("BLOBENDPOINT"):
                raise ServiceStartError(
                    self.name,
                    "HARNESS_AZURE_CONNECTION_STRING has neither AccountName nor BlobEndpoint",
                    _EXTERNAL_FIX,
                )
            return {**parts, "CONNECTION_STRING": connection_string}
        account_url = settings.azure_account_url.rstrip("/")
        account_key = settings.azure_account_key
        if not (account_url and account_key):
            raise ServiceStartError(
                self.name, "--provision external has no Azure account to use", _EXTERNAL_FIX
            )
        url = urlsplit(account_url)
        name = settings.azure_account_name
        if not name:
            path_name = url.path.strip("/").split("/")[0]
            name = path_name or (url.hostname or "").split(".")[0]
        return {"BLOBENDPOINT": account_url, "ACCOUNTNAME": name, "ACCOUNTKEY": account_key}

    def _start_external(self) -> None:
        parts = self._read_external()
        self._external_connection_string = parts.get("CONNECTION_STRING", "")
        self.account_name = parts.get("ACCOUNTNAME", "")
        self.account_key = parts.get("ACCOUNTKEY", "")
        self.blob_endpoint = _blob_endpoint_of(parts)
        if not self.account_name:
            self.account_name = urlsplit(self.blob_endpoint).path.strip("/").split("/")[0]
        if not self._external_connection_string:
            self._external_connection_string = self.connection_string
        url = urlsplit(self.blob_endpoint)
        self.host = url.hostname or ""
        self.port = url.port or (443 if url.scheme == "https" else 80)
        verify = self.settings.azure_connection_verify
        self.cert_path = Path(verify) if verify else None
        wait_or_fail(self, f"{self.blob_endpoint} does not answer", _EXTERNAL_FIX)
