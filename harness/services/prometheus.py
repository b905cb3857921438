"""Prometheus: a throwaway server scraping what the harness started, with alert rules loaded.

`local` only (the alert drill, `harness.alerts`, needs a server it configures itself): the
Debian `prometheus` binary on a free loopback port, its TSDB and its configuration in a
temp folder of its own, stopped by PID like PostgreSQL and Redis. The configuration is
written here from `ScrapeTarget`s and rule files; a bearer token goes to a file of mode
0600 beside it (`authorization: {credentials_file: ...}`), never into the configuration,
the log or an error. Ready when `/-/ready` answers 200 (Prometheus says so once its TSDB
is open and the configuration is loaded).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http.client import HTTPConnection, HTTPException
from pathlib import Path
from typing import Any

import yaml

from harness.services.base import ManagedService, ProvisionMode, ServiceStartError
from harness.services.readiness import NotReadyError, launch_local

__all__ = ["PrometheusService", "ScrapeTarget", "prometheus_config", "seconds_text"]

_INSTALL_FIX = (
    "apt-get install -y prometheus (Debian's package brings `prometheus` and `promtool`; "
    "`make bootstrap` installs it when run as root), or set HARNESS_PROMETHEUS to the binary"
)


@dataclass(frozen=True)
class ScrapeTarget:
    """One scrape job: `address` is host:port; `bearer_token` (optional) is sent as
    `Authorization: Bearer ...` from a credentials file."""

    job: str
    address: str
    path: str = "/metrics"
    bearer_token: str = ""


def seconds_text(seconds: float) -> str:
    """A Prometheus duration for `seconds` (whole milliseconds: '500ms', '1s', '2500ms')."""
    ms = round(seconds * 1000)
    if ms <= 0:
        raise ValueError(f"a Prometheus duration must be positive, not {seconds!r} s")
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms}ms"


def prometheus_config(
    targets: Sequence[ScrapeTarget],
    rule_files: Sequence[Path],
    *,
    scrape_interval: float,
    evaluation_interval: float,
    credentials: Mapping[str, Path],
) -> dict[str, Any]:
    """The server's configuration (as a dict; JSON is valid YAML). `credentials` maps a
    job to the file holding its bearer token. The scrape timeout is the interval: a
    scrape never overlaps the next one."""
    jobs: list[dict[str, Any]] = []
    for target in targets:
        job: dict[str, Any] = {
            "job_name": target.job,
            "metrics_path": target.path,
            "static_configs": [{"targets": [target.address]}],
        }
        if target.job in credentials:
            job["authorization"] = {
                "type": "Bearer",
                "credentials_file": str(credentials[target.job]),
            }
        jobs.append(job)
    return {
        "global": {
            "scrape_interval": seconds_text(scrape_interval),
            "scrape_timeout": seconds_text(scrape_interval),
            "evaluation_interval": seconds_text(evaluation_interval),
        },
        "rule_files": [str(path) for path in rule_files],
        "scrape_configs": jobs,
    }


def _get(port: int, path: str, timeout: float) -> tuple[int, bytes]:
    connection = HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    except (OSError, HTTPException) as exc:
        raise NotReadyError(f"127.0.0.1:{port} does not answer: {exc}") from None
    finally:
        connection.close()


def probe_ready(port: int, rule_groups: int = 0, timeout: float = 2.0) -> None:
    """Raise NotReadyError unless Prometheus on `port` answers 200 on `/-/ready` and, when
    `rule_groups` > 0, lists that many rule groups (they load a moment after /-/ready)."""
    status, _ = _get(port, "/-/ready", timeout)
    if status != 200:
        raise NotReadyError(f"/-/ready answered {status}")
    if rule_groups:
        _, body = _get(port, "/api/v1/rules", timeout)
        try:
            groups = len(json.loads(body)["data"]["groups"])
        except (ValueError, KeyError, TypeError):
            groups = 0
        if groups < rule_groups:
            raise NotReadyError(f"{groups} of {rule_groups} rule groups loaded")


class PrometheusService(ManagedService):
    """A Prometheus server scraping `targets` with `rule_files` loaded; `url` is its base
    URL (the HTTP API is `url + /api/v1/...`)."""

    name = "prometheus"

    def __init__(
        self,
        targets: Sequence[ScrapeTarget],
        rule_files: Sequence[Path] = (),
        *,
        scrape_interval: float = 1.0,
        evaluation_interval: float = 1.0,
        mode: ProvisionMode = "local",
        log_dir: Path | None = None,
        ready_timeout: float = 30.0,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(mode, log_dir=log_dir, ready_timeout=ready_timeout, environ=environ)
        self.targets = list(targets)
        self.rule_files = [Path(p).resolve() for p in rule_files]
        self.scrape_interval = scrape_interval
        self.evaluation_interval = evaluation_interval
        self.url = ""

    def _binary(self) -> str | None:
        return self.settings.prometheus_bin or shutil.which(
            "prometheus", path=self._environ.get("PATH")
        )

    def check_prerequisites(self) -> None:
        """Raise ServiceStartError if this cannot work here (cheap, no I/O to services)."""
        if self.mode != "local":
            raise ServiceStartError(
                self.name,
                f"--provision {self.mode} is not supported for Prometheus",
                "the alert drill always runs its own Prometheus: use --provision local",
            )
        if self._binary() is None:
            raise ServiceStartError(self.name, "prometheus is not installed", _INSTALL_FIX)
        missing = [str(p) for p in self.rule_files if not p.is_file()]
        if missing:
            raise ServiceStartError(
                self.name, f"rule file(s) not found: {', '.join(missing)}", "pass existing files"
            )

    def describe(self) -> str:
        return self.url

    def probe(self) -> None:
        probe_ready(self.port, self._rule_groups())

    def _rule_groups(self) -> int:
        """How many rule groups the rule files declare (Prometheus must list them all)."""
        total = 0
        for path in self.rule_files:
            document = yaml.safe_load(path.read_text("utf-8"))
            if isinstance(document, dict):
                total += len(document.get("groups") or [])
        return total

    def _write_config(self, workdir: Path) -> Path:
        credentials: dict[str, Path] = {}
        for target in self.targets:
            if target.bearer_token:
                path = workdir / f"{target.job}.token"
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w") as out:
                    out.write(target.bearer_token)
                credentials[target.job] = path
        config = prometheus_config(
            self.targets,
            self.rule_files,
            scrape_interval=self.scrape_interval,
            evaluation_interval=self.evaluation_interval,
            credentials=credentials,
        )
        path = workdir / "prometheus.yml"
        path.write_text(json.dumps(config, indent=2) + "\n", "utf-8")
        return path

    def _start_local(self) -> None:
        self._workdir = Path(tempfile.mkdtemp(prefix="crownsafe-prometheus-"))
        log_dir = self.log_dir or self._workdir
        log_dir.mkdir(parents=True, exist_ok=True)
        config = self._write_config(self._workdir)
        binary = str(self._binary())
        data = str(self._workdir / "data")
        groups = self._rule_groups()

        def argv(port: int) -> list[str]:
            return [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={data}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--storage.tsdb.retention.time=1h",
                "--log.level=warn",
            ]

        self._process, port = launch_local(
            self.name,
            argv,
            lambda p: log_dir / f"prometheus-{p}.log",
            lambda p: probe_ready(p, groups),
            timeout=self.ready_timeout,
            fix="read the Prometheus log below (a configuration error names the line)",
        )
        self.host, self.port = "127.0.0.1", port
        self.log_path = log_dir / f"prometheus-{port}.log"
        self.url = f"http://127.0.0.1:{port}"
