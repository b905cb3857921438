"""The outage drill end to end on one backend: real emulator, PostgreSQL, Redis, app,
worker, fault proxy and Prometheus 2.42 with the compressed rules (harness.alerts.drill).

Two runs: the drill as shipped must see every fault raise its alerts in time, resolve them
after clearing, and the clean load raise none; the same drill with its fault announced but
never injected must be not ready and name the rule, the fault and the backend. Also the
Prometheus provider on its own: its own port and data folder, gone after stop, and a
typed error when the binary is missing.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import psutil
import pytest
import yaml

from harness.alerts.drill import RULE_FILE, AlertDrillOptions, run_alert_drill
from harness.runfolder.alerts import AlertsFile
from harness.services.base import ServiceStartError
from harness.services.postgres import PostgresService
from harness.services.prometheus import PrometheusService, ScrapeTarget
from harness.services.provision import ProvisionedServices
from harness.services.redis import RedisService

pytestmark = [pytest.mark.migration, pytest.mark.slow, pytest.mark.timeout(600)]

SLOW = "CrownsafeUploadsSlow"


def _backend(services: ProvisionedServices) -> str:
    return "s3" if "s3" in services.services else "azure"


def test_every_fault_raises_its_alerts_and_the_clean_load_none(
    storage_services: ProvisionedServices,
    postgres_service: PostgresService,
    redis_service: RedisService,
    tmp_path: Path,
) -> None:
    backend = _backend(storage_services)
    result = run_alert_drill(
        storage_services, postgres_service, redis_service.url, tmp_path, [backend]
    )
    assert result.broken_promises() == []
    (drill,) = result.drills
    assert [p.fault for p in drill.phases] == [
        "clean",
        "storage down",
        "every request 503",
        "latency 6 s",
    ]
    fired = {(s.alert, s.labels.get("backend")) for s in drill.alerts if s.firing_s is not None}
    for alert in ("CrownsafeStorageCircuitBreakerOpen", "CrownsafeUploadFailureRateHigh", SLOW):
        assert (alert, backend) in fired
    assert drill.uploads > 50 and drill.polls > 50
    assert AlertsFile.model_validate_json((tmp_path / "alerts.json").read_text()) == result


def test_a_fault_that_never_happens_is_a_named_alert_that_did_not_fire(
    storage_services: ProvisionedServices,
    postgres_service: PostgresService,
    redis_service: RedisService,
    tmp_path: Path,
) -> None:
    backend = _backend(storage_services)
    options = AlertDrillOptions(faults=("latency",), sabotage="no-inject", clean_s=2.0)
    result = run_alert_drill(
        storage_services, postgres_service, redis_service.url, tmp_path, [backend], options
    )
    assert result.broken_promises() == [
        f"alerts [{backend}]: {SLOW} did not fire on fault latency 6 s"
    ]


def test_prometheus_runs_on_its_own_port_and_folder_with_the_token_out_of_its_config(
    tmp_path: Path,
) -> None:
    target = ScrapeTarget("app", "127.0.0.1:9", bearer_token="not-in-the-config")
    with PrometheusService([target], [RULE_FILE], log_dir=tmp_path) as prometheus:
        workdir = prometheus._workdir
        assert workdir is not None and (workdir / "data").is_dir()
        config = json.loads((workdir / "prometheus.yml").read_text())
        assert "not-in-the-config" not in json.dumps(config)
        token_file = Path(config["scrape_configs"][0]["authorization"]["credentials_file"])
        assert token_file.stat().st_mode & 0o077 == 0
        rules = httpx.get(f"{prometheus.url}/api/v1/rules", trust_env=False).json()
        loaded = [r["name"] for g in rules["data"]["groups"] for r in g["rules"]]
        shipped = [r["alert"] for g in yaml.safe_load(RULE_FILE.read_text())["groups"]
                   for r in g["rules"]]  # fmt: skip
        assert sorted(loaded) == sorted(shipped) and len(loaded) == 8
        pid = prometheus.pid
    assert pid is not None and not psutil.pid_exists(pid) and not workdir.exists()
    assert "not-in-the-config" not in (tmp_path / f"prometheus-{prometheus.port}.log").read_text()


def test_a_missing_prometheus_binary_says_what_to_install(tmp_path: Path) -> None:
    missing = PrometheusService([], environ={"HARNESS_PROMETHEUS": "", "PATH": str(tmp_path)})
    with pytest.raises(ServiceStartError, match="apt-get install -y prometheus"):
        missing.start()
