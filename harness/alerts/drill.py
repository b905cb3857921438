"""The outage drill: do the alert rules fire on a real outage, and only then?

Per backend (the backends at the same time: `AlertDrillOptions.parallel`), against real
services:

1. the app and a worker on that backend, their storage behind the fault proxy (Azure: the
   connection string's endpoint, S3: `S3_ENDPOINT_URL`, both rewritten to the proxy), a
   short breaker recovery (`STORAGE_BREAKER_RECOVERY_SECONDS`) so the breaker closes soon
   after a fault clears;
2. a real Prometheus (harness.services.prometheus) scraping the app's `/metrics` (with an
   operator's bearer token) and the worker's metrics port, with a time-compressed copy of
   deploy/prometheus/crownsafe.rules.yml loaded (harness.alerts.compress: durations / the
   factor, expressions, labels and thresholds unchanged);
3. a steady light load (harness.alerts.load), then the phases: a clean load (no alert may
   fire), then each fault of `FAULTS` in turn: injected, held until its expected alerts
   fire (or their allowance passed), cleared, and the drill waits until every alert is
   quiet again before the next one;
4. `AlertWatch` polls Prometheus' `/api/v1/alerts` throughout and records each alert's
   pending / firing / resolved times.

The result is `alerts.json` (harness.runfolder.alerts); its `broken_promises` is the
verdict.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml
from alembic import command

from crownsafe.api.auth import mint_token
from crownsafe.config import SecretStr, Settings, load_settings
from crownsafe.db.alembic_config import make_alembic_config
from crownsafe.storage.base import StorageClient
from crownsafe.storage.factory import create_storage_client
from harness.alerts.compress import compress_rules, rule_timings
from harness.alerts.load import UploadLoad
from harness.alerts.watch import AlertWatch
from harness.faults.proxy import FaultProxyServer, Proxy
from harness.runfolder.alerts import AlertsFile, BackendDrill, FaultPhase, RuleTiming
from harness.services.app import AppService
from harness.services.base import free_port
from harness.services.postgres import PostgresService
from harness.services.prometheus import PrometheusService, ScrapeTarget
from harness.services.provision import ProvisionedServices
from harness.services.stack import stack_env
from harness.services.worker import WorkerService

__all__ = ["FAULTS", "RULE_FILE", "AlertDrillOptions", "Fault", "run_alert_drill"]

REPOSITORY = Path(__file__).resolve().parents[2]
RULE_FILE = REPOSITORY / "deploy" / "prometheus" / "crownsafe.rules.yml"

BREAKER = "CrownsafeStorageCircuitBreakerOpen"
FAILURE_RATE = "CrownsafeUploadFailureRateHigh"
SLOW = "CrownsafeUploadsSlow"
API_5XX = "CrownsafeApi5xxRatioHigh"
JOBS_FAILING = "CrownsafeImageJobsFailing"
BACKLOG = "CrownsafeImageJobBacklog"


@dataclass(frozen=True)
class AlertDrillOptions:
    factor: float = 60.0
    """Every duration of the rules / this: for: 1m -> 1 s (two 0.5 s evaluations),
    2m -> 2 s, rate(...[5m]) -> [5s]."""
    scrape_interval: float = 0.5
    evaluation_interval: float = 0.5
    tolerance_s: float = 2.0
    """Added to each allowance: a rule group's evaluation is not aligned with the scrapes,
    the breaker needs a few failed calls to open, and the watch polls every 0.25 s."""
    clean_s: float = 6.0
    latency_ms: int = 6000
    """The latency fault: every storage response 6 s late. The rule's threshold (an
    average upload above 5 s) is not compressed, so the fault must exceed it."""
    breaker_recovery_s: float = 2.0
    load_interval: float = 0.15
    load_in_flight: int = 4
    poll_interval: float = 0.25
    faults: tuple[str, ...] = ("storage down", "every request 503", "latency")
    parallel: bool = True
    """The backends' drills at the same time (each its own app, worker, proxy and
    Prometheus; nothing shared but PostgreSQL's server, Redis and the emulators), rather
    than one after the other: the stage takes about one drill's time instead of two."""
    sabotage: str = ""
    """"no-inject": the faults are announced but never injected (a test of the verdict)."""


@dataclass(frozen=True)
class Fault:
    """One fault of the drill: how to inject and clear it on the storage proxy, the alerts
    it must raise, those it may raise as a consequence, and how long its effects outlast
    its clearing (beyond the rules' windows)."""

    name: str
    expected: tuple[str, ...]
    tolerated: tuple[str, ...]
    inject: Callable[[Proxy, AlertDrillOptions], None]
    clear: Callable[[Proxy, AlertDrillOptions], None]
    tail: Callable[[AlertDrillOptions], float] = field(default=lambda o: o.breaker_recovery_s)
    onset: Callable[[AlertDrillOptions], float] = field(default=lambda o: 0.0)


def _every_503_on(proxy: Proxy, options: AlertDrillOptions) -> None:
    proxy.add_http_fault("drill-503", 503)


def _latency_on(proxy: Proxy, options: AlertDrillOptions) -> None:
    proxy.add_toxic(
        "drill-latency", "latency", "downstream", attributes={"latency": options.latency_ms}
    )


# An upload the storage refuses is a 503 of the API (and a job queued before the fault
# fails when the worker reads its image): the API's 5xx ratio and the job failures may
# follow a storage fault; they are recorded, not required (their for: is longer).
_CONSEQUENCES = (API_5XX, JOBS_FAILING)
FAULTS: dict[str, Fault] = {
    f.name: f
    for f in (
        Fault(
            "storage down",
            (BREAKER, FAILURE_RATE),
            _CONSEQUENCES,
            lambda p, o: p.disable(),
            lambda p, o: p.enable(),
        ),
        Fault(
            "every request 503",
            (BREAKER, FAILURE_RATE),
            _CONSEQUENCES,
            _every_503_on,
            lambda p, o: p.remove_http_fault("drill-503"),
        ),
        Fault(
            "latency",
            (SLOW,),
            (BACKLOG,),
            _latency_on,
            lambda p, o: p.remove_toxic("drill-latency"),
            tail=lambda o: o.latency_ms / 1000,
            onset=lambda o: o.latency_ms / 1000,
        ),
    )
}


def _fault_label(fault: Fault, options: AlertDrillOptions) -> str:
    return f"latency {options.latency_ms / 1000:g} s" if fault.name == "latency" else fault.name


def _proxied_env(env: dict[str, str], backend: str, proxies: FaultProxyServer) -> Proxy:
    """Put the backend's storage behind a new proxy: rewrite its endpoint in `env`."""
    if backend == "azure":
        key = "AZURE_STORAGE_CONNECTION_STRING"
        host = next(
            part.split("=", 1)[1].split("://", 1)[1].split("/", 1)[0]
            for part in env[key].split(";")
            if part.startswith("BlobEndpoint=")
        )
    else:
        key = "S3_ENDPOINT_URL"
        host = env[key].split("://", 1)[1].split("/", 1)[0]
    proxy = proxies.create(
        f"alerts-{backend}", host, flavor="azure" if backend == "azure" else "s3"
    )
    env[key] = env[key].replace(host, proxy.listen)
    return proxy


def _delete_quietly(storage: StorageClient) -> None:
    with suppress(Exception):
        storage.delete_container()


def _wait(condition: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


_MIGRATING = threading.Lock()
"""Alembic's `context` is one module-wide proxy: two migrations at once (the backends'
drills in parallel) must take turns."""


def _start_together(stack: ExitStack, *services: AppService | WorkerService) -> None:
    """Start `services` at once (each a process of its own that takes seconds to import
    and get ready), each stopped by `stack` however the start ends."""
    for service in services:
        stack.callback(service.stop)
    with ThreadPoolExecutor(len(services), thread_name_prefix="drill-start") as pool:
        starting = [pool.submit(service.start) for service in services]
    for started in starting:
        started.result()


def _targets_up(prometheus: PrometheusService, jobs: int) -> bool:
    try:
        answer = httpx.get(f"{prometheus.url}/api/v1/targets", timeout=2, trust_env=False)
        active = answer.json()["data"]["activeTargets"]
    except (httpx.HTTPError, ValueError, KeyError):
        return False
    return len(active) == jobs and all(t.get("health") == "up" for t in active)


def _backend_drill(
    backend: str,
    services: ProvisionedServices,
    postgres: PostgresService,
    redis_url: str,
    work: Path,
    rules_path: Path,
    rules: list[RuleTiming],
    options: AlertDrillOptions,
    say: Callable[[str], None],
) -> BackendDrill:
    began = time.time()
    tag = secrets.token_hex(4)
    container = f"cs-alerts-{backend}-{tag}"
    database_url = postgres.create_database()
    with _MIGRATING:
        command.upgrade(make_alembic_config(database_url), "head")
    worker_port = free_port()
    with ExitStack() as stack:
        proxies = stack.enter_context(FaultProxyServer())
        env = stack_env(
            services,
            backend,
            container,
            database_url,
            redis_url,
            secrets.token_hex(32),
            CELERY_QUEUE=f"crownsafe-{container}",
            STORAGE_BREAKER_RECOVERY_SECONDS=f"{options.breaker_recovery_s:g}",
            WORKER_METRICS_PORT=str(worker_port),
            RATE_LIMIT_UPLOADS="off",
        )
        storage = create_storage_client(load_settings(env), resilient=False)
        stack.callback(storage.close)
        storage.create_container(exist_ok=True)
        stack.callback(_delete_quietly, storage)
        proxy = _proxied_env(env, backend, proxies)
        app = AppService(settings_env=env, log_dir=work)
        _start_together(stack, app, WorkerService(settings_env=env, log_dir=work))
        operator = mint_token(1, Settings(jwt_secret=SecretStr(env["JWT_SECRET"])), ttl=3600)
        prometheus = stack.enter_context(
            PrometheusService(
                [
                    ScrapeTarget(
                        "crownsafe-api", app.url.split("://", 1)[1], bearer_token=operator
                    ),
                    ScrapeTarget("crownsafe-worker", f"127.0.0.1:{worker_port}"),
                ],
                [rules_path],
                scrape_interval=options.scrape_interval,
                evaluation_interval=options.evaluation_interval,
                log_dir=work,
            )
        )
        load = UploadLoad(
            app.url, operator, interval=options.load_interval, in_flight=options.load_in_flight
        ).start()
        stack.callback(load.stop)
        if not _wait(lambda: _targets_up(prometheus, 2), 30, 0.25):
            raise TimeoutError("Prometheus did not see the app and the worker up within 30 s")
        origin = time.time()
        watch = AlertWatch(prometheus.url, origin, options.poll_interval).start()
        stack.callback(watch.stop)
        drill = BackendDrill(backend=backend, rules=rules, setup_s=round(origin - began, 1))

        def now() -> float:
            return round(time.time() - origin, 3)

        def quiet() -> bool:
            return not watch.active()

        say(f"alert drill [{backend}]: clean load for {options.clean_s:g} s")
        time.sleep(options.clean_s)
        drill.phases.append(
            FaultPhase(fault="clean", started_s=0.0, cleared_s=now(), ended_s=now())
        )

        def longest(alerts: tuple[str, ...]) -> float:
            return max((r.range_s for r in rules if r.alert in alerts), default=0.0)

        for name in options.faults:
            fault = FAULTS[name]
            label = _fault_label(fault, options)
            onset = fault.onset(options)
            allowance = max(
                drill.allowance(a, options.scrape_interval, options.tolerance_s, onset)
                for a in fault.expected
            )
            # the expected alerts must resolve within their windows after the fault's
            # tail; before the next fault, the consequences must be quiet too
            margin = fault.tail(options) + 2 * options.scrape_interval + options.tolerance_s
            resolve_within = margin + longest(fault.expected)
            settle = margin + longest(fault.expected + fault.tolerated) + 5
            _wait(quiet, settle)
            started = now()
            if options.sabotage != "no-inject":
                fault.inject(proxy, options)

            def fired(expected: tuple[str, ...] = fault.expected, since: float = started) -> bool:
                spans = watch.spans()
                return all(
                    any(
                        s.alert == a and s.firing_s is not None and s.firing_s >= since
                        for s in spans
                    )
                    for a in expected
                )

            _wait(fired, allowance + options.scrape_interval)
            cleared = now()
            if options.sabotage != "no-inject":
                fault.clear(proxy, options)
            say(f"alert drill [{backend}]: {label} from {started:.1f} s to {cleared:.1f} s")
            _wait(quiet, settle)
            drill.phases.append(
                FaultPhase(
                    fault=label,
                    started_s=started,
                    cleared_s=cleared,
                    ended_s=now(),
                    expected=list(fault.expected),
                    tolerated=list(fault.tolerated),
                    onset_s=onset,
                    resolve_within_s=round(resolve_within, 3),
                )
            )
        drill.phases_s = now()
        watch.stop()
        load.stop()
        drill.alerts = watch.spans()
        drill.polls, drill.poll_errors = watch.polls, watch.errors[:5]
        drill.uploads, drill.upload_failures = load.counts.started, load.counts.failed
    drill.seconds = round(time.time() - began, 1)
    return drill


def run_alert_drill(
    services: ProvisionedServices,
    postgres: PostgresService,
    redis_url: str,
    run_dir: Path,
    backends: list[str],
    options: AlertDrillOptions = AlertDrillOptions(),
    say: Callable[[str], None] = print,
) -> AlertsFile:
    """Run the drill on each of `backends` (at the same time unless `options.parallel` is
    off); write and return `alerts.json`. A backend whose drill could not run is recorded
    with its error."""
    began = time.time()
    work = run_dir / "alerts"
    work.mkdir(parents=True, exist_ok=True)
    compressed = compress_rules(
        RULE_FILE.read_text("utf-8"),
        options.factor,
        evaluation_interval=options.evaluation_interval,
    )
    rules_path = work / "crownsafe.rules.compressed.yml"
    rules_path.write_text(compressed, "utf-8")
    rules = [
        RuleTiming(alert=r.alert, for_s=r.for_s, range_s=r.range_s)
        for r in rule_timings(yaml.safe_load(compressed))
    ]
    result = AlertsFile(
        factor=options.factor,
        scrape_interval_s=options.scrape_interval,
        evaluation_interval_s=options.evaluation_interval,
        tolerance_s=options.tolerance_s,
        rule_file=str(RULE_FILE.relative_to(REPOSITORY)),
    )

    def drill(backend: str) -> BackendDrill:
        try:
            done = _backend_drill(
                backend, services, postgres, redis_url, work / backend, rules_path, rules,
                options, say,
            )  # fmt: skip
        except TimeoutError as exc:
            done = BackendDrill(backend=backend, rules=rules, error=str(exc))
        say(
            f"alert drill [{backend}]: {done.seconds:.0f} s ({done.setup_s:.0f} s to start, "
            f"{done.phases_s:.0f} s of phases, the rest to stop)"
        )
        return done

    if options.parallel and len(backends) > 1:
        with ThreadPoolExecutor(len(backends), thread_name_prefix="alert-drill") as pool:
            result.drills = list(pool.map(drill, backends))
    else:
        result.drills = [drill(backend) for backend in backends]
    result.seconds = round(time.time() - began, 1)
    (run_dir / AlertsFile.FILE).write_text(result.model_dump_json(indent=2) + "\n", "utf-8")
    return result
