"""The live cut-over drill: S3 -> Azure under load, every phase walked, nothing lost.

`run_drill` does what an operator would, against real services:

1. seed S3 and an S3-era database with `objects` legacy objects and their rows; run the
   column migration; turn the rows into live share links (harness.cutover.seed);
2. start the app and a worker with `STORAGE_MIGRATION_PHASE=live` (their Azure traffic
   through the fault proxy), enter `dual-write`, start the load (load/cutover.py: legacy
   reads, uploads, shares, reports);
3. `backfill`: run `crownsafe-migrate-objects --no-rewrite-urls` beside the load; SIGKILL
   it once a quarter of the objects are verified, start it again (it resumes);
4. `azure-reads` once `flip_at` of the objects are verified (the rest is read through the
   fallback while the copier finishes); one Azure outage (the proxy down) in this phase;
   then the rows rewrite (a second migrate-objects run that copies nothing), and wait
   until no fallback read happened for `quiet_s`;
5. `azure-only`; stop the load; check every object and every row (harness.cutover.checks).

A sampler thread reads the app's fallback counter and the copier's ledger every 0.5 s;
the request records and the samples are cut into phases (harness.cutover.timeline). The
result is `cutover.json`; its `broken_promises` is the verdict.
"""

from __future__ import annotations

import json
import math
import secrets
import sys
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
from alembic import command
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, text

from crownsafe.api.auth import mint_token
from crownsafe.config import SecretStr, Settings, load_settings
from crownsafe.cutover.phases import MigrationPhase
from crownsafe.cutover.state import set_phase
from crownsafe.db.alembic_config import make_alembic_config
from crownsafe.db.session import make_engine
from crownsafe.storage.factory import create_storage_client
from harness.cutover.checks import check_everything
from harness.cutover.seed import legacy_objects, seed_legacy, share_legacy
from harness.cutover.timeline import (
    PhaseMark,
    Sample,
    excused_failures,
    phase_windows,
    read_records,
    recovery_second,
)
from harness.faults.proxy import FaultProxyServer
from harness.loadtest.launch import LocustProcess, locust_env
from harness.runfolder.cutover import CutoverFile, FaultWindow
from harness.services.app import AppService
from harness.services.base import ServiceProcess
from harness.services.postgres import PostgresService
from harness.services.provision import ProvisionedServices
from harness.services.stack import stack_env
from harness.services.worker import WorkerService

__all__ = ["DrillOptions", "run_drill"]

S3_ERA_REVISION = "5e3a1c9d2f47"
REPOSITORY = Path(__file__).resolve().parents[2]


RECOVERY_SLACK_S = 25.0
"""How long past the breaker's recovery users may still see the outage: a call that began
just before Azure came back may wait out its retries and STORAGE_TIMEOUT_SECONDS (10 s in
the drill), and a loaded 2-core machine serves the queue it built up late."""


@dataclass(frozen=True)
class DrillOptions:
    objects: int = 2000
    users: int = 6
    dual_write_s: float = 8.0
    kill_at: float = 0.25
    flip_at: float = 0.6
    outage_s: float = 3.0
    quiet_s: float = 5.0
    azure_only_s: float = 8.0
    breaker_recovery_s: float = 5.0
    """The app's STORAGE_BREAKER_RECOVERY_SECONDS: after the outage, users see 503s for
    about this long (the drill measures the cut-over, not the breaker's default)."""
    sabotage: str = ""
    """"no-fallback": the app runs azure-only from the start (reads never reach S3)."""
    compare_alone: bool = True
    """After the drill, copy the same objects again with `migrate-objects` alone (no load,
    a fresh container) for the backfill-rate ratio, measured in the same run."""


def _copier_alone_rate(
    copier_argv: list[str],
    copier_env: dict[str, str],
    direct: Settings,
    target: str,
    objects: int,
    work: Path,
    say: Callable[[str], None],
) -> float:
    """objects/s of one `migrate-objects` run of the same bucket into an empty container,
    with the load stopped: the copier's rate on its own, timed like the drill's (process
    start to exit)."""
    alone = create_storage_client(
        load_settings(
            {
                "STORAGE_BACKEND": "azure",
                "AZURE_BLOB_ENABLED": "true",
                "AZURE_STORAGE_CONNECTION_STRING": direct.azure_storage_connection_string.get(),
                "AZURE_STORAGE_CONTAINER": target,
            }
        ),
        resilient=False,
    )
    try:
        alone.create_container()
        argv = [*copier_argv, "--no-rewrite-urls"]
        argv[argv.index("--target-container") + 1] = target
        started = time.time()
        copier = ServiceProcess(argv, work / "copier-alone.log", copier_env).start()
        try:
            _wait(lambda: copier.exit_code() is not None, 900, "the copier run alone")
        finally:
            copier.stop()
        seconds = time.time() - started
        if copier.exit_code() != 0:
            raise RuntimeError(f"cut-over drill: the copier run alone exited {copier.exit_code()}")
        rate = round(objects / seconds, 1)
        say(f"cut-over drill: migrate-objects alone: {rate} objects/s ({seconds:.1f} s)")
        return rate
    finally:
        with suppress(Exception):
            alone.delete_container()
        alone.close()


class _Sampler:
    def __init__(self, metrics_url: str, token: str, engine: Engine, bucket: str) -> None:
        self.metrics_url, self.engine, self.bucket = metrics_url, engine, bucket
        self.headers = {"Authorization": f"Bearer {token}"}
        self.samples: list[Sample] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cutover-sampler", daemon=True)

    def start(self) -> _Sampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def verified(self) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    text(
                        "SELECT count(*) FROM object_migration "
                        "WHERE source_bucket = :b AND status = 'verified'"
                    ),
                    {"b": self.bucket},
                ).scalar_one()
            )

    def fallback_reads(self) -> float:
        response = httpx.get(self.metrics_url, headers=self.headers, timeout=5, trust_env=False)
        response.raise_for_status()
        body = response.text
        return sum(
            sample.value
            for family in text_string_to_metric_families(body)
            if family.name == "crownsafe_cutover_fallback_reads"
            for sample in family.samples
            if sample.name.endswith("_total")
        )

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.samples.append(Sample(time.time(), self.fallback_reads(), self.verified()))
            except Exception as exc:  # a sample missed is a gap in a chart, not a failure
                self.errors.append(f"{type(exc).__name__}: {exc}"[:200])
            self._stop.wait(0.5)

    def fallbacks_since(self, seconds: float) -> float:
        now = time.time()
        window = [s for s in self.samples if s.at >= now - seconds]
        if len(window) < 2:
            return float("inf")
        return window[-1].fallback_reads - window[0].fallback_reads


def _wait(
    condition: Callable[[], bool],
    timeout: float,
    what: str,
    detail: Callable[[], str] = lambda: "",
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            more = detail()
            raise TimeoutError(
                f"cut-over drill: no {what} within {timeout:.0f} s" + (f" ({more})" if more else "")
            )
        time.sleep(0.25)


def run_drill(
    services: ProvisionedServices,
    postgres: PostgresService,
    redis_url: str,
    run_dir: Path,
    options: DrillOptions = DrillOptions(),
    say: Callable[[str], None] = print,
) -> CutoverFile:
    """Run the drill on running services; write and return `cutover.json`."""
    work = run_dir / "cutover"
    work.mkdir(parents=True, exist_ok=True)
    tag = secrets.token_hex(4)
    container, bucket = f"cs-cutover-az-{tag}", f"cs-cutover-s3-{tag}"
    database_url = postgres.create_database()
    command.upgrade(make_alembic_config(database_url), S3_ERA_REVISION)
    engine = make_engine(database_url, pool_size=4, max_overflow=4)
    began = time.time()
    with ExitStack() as stack:
        stack.callback(engine.dispose)
        proxies = stack.enter_context(FaultProxyServer())
        azure_host = services.azure.blob_endpoint.split("://", 1)[1].split("/", 1)[0]
        proxy = proxies.create("cutover-azure", azure_host)
        env = stack_env(
            services,
            "azure",
            container,
            database_url,
            redis_url,
            secrets.token_hex(32),
            **services.s3.env(),
            S3_BUCKET=bucket,
            CELERY_QUEUE=f"crownsafe-{container}",
            STORAGE_MIGRATION_PHASE="azure-only" if options.sabotage == "no-fallback" else "live",
            STORAGE_MIGRATION_PHASE_TTL="0.5",
            STORAGE_BREAKER_RECOVERY_SECONDS=f"{options.breaker_recovery_s:g}",
        )
        direct = load_settings({**env, "STORAGE_MIGRATION_PHASE": ""})
        azure = create_storage_client(direct, resilient=False)
        s3 = create_storage_client(
            load_settings({**env, "STORAGE_MIGRATION_PHASE": "", "STORAGE_BACKEND": "s3"}),
            resilient=False,
        )
        stack.callback(azure.close)
        stack.callback(s3.close)
        azure.create_container()
        s3.create_container()
        objects = legacy_objects(options.objects)
        say(f"cut-over drill: seeding {len(objects)} objects into S3 and the S3-era schema")
        seed_legacy(engine, s3, objects)
        command.upgrade(make_alembic_config(database_url), "head")
        tokens = share_legacy(engine, objects)
        links = work / "legacy-links.json"
        links.write_text(json.dumps([[t, o.size, o.sha256] for t, o in tokens.items()]))
        env["AZURE_STORAGE_CONNECTION_STRING"] = env["AZURE_STORAGE_CONNECTION_STRING"].replace(
            azure_host, proxy.listen
        )
        set_phase(engine, MigrationPhase.DUAL_WRITE, note="drill")
        app = stack.enter_context(AppService(settings_env=env, log_dir=work))
        stack.enter_context(WorkerService(settings_env=env, log_dir=work))
        operator = mint_token(1, Settings(jwt_secret=SecretStr(env["JWT_SECRET"])), ttl=3600)
        sampler = _Sampler(f"{app.url}/metrics", operator, engine, bucket).start()
        stack.callback(sampler.stop)
        records = work / "requests.jsonl"
        load_env = locust_env(env["JWT_SECRET"], "azure")
        load_env.update(CROWNSAFE_CUTOVER_TOKENS=str(links), CROWNSAFE_CUTOVER_RECORD=str(records))
        argv = [sys.executable, "-m", "locust", "-f", str(REPOSITORY / "load" / "cutover.py")]
        argv += ["--headless", "--host", app.url, "-u", str(options.users)]
        argv += ["-r", str(options.users), "--only-summary", "--crownsafe-backend", "azure"]
        locust = LocustProcess(argv, load_env, work / "locust.log").start()
        stack.callback(locust.stop)
        _wait(
            lambda: records.exists() and records.stat().st_size > 0,
            120,
            "first request from the load generator",
        )
        origin = time.time()
        marks = [PhaseMark(MigrationPhase.DUAL_WRITE.value, origin)]
        faults: list[FaultWindow] = []

        def enter(phase: MigrationPhase) -> None:
            set_phase(engine, phase, note="drill")
            marks.append(PhaseMark(phase.value, time.time()))
            say(f"cut-over drill: {phase.value} at {marks[-1].at - origin:.1f} s")

        say(f"cut-over drill: dual-write, load running ({options.users} users)")
        time.sleep(options.dual_write_s)
        enter(MigrationPhase.BACKFILL)
        copier_env = {
            **load_env,
            **env,
            "AZURE_STORAGE_CONNECTION_STRING": direct.azure_storage_connection_string.get(),
        }
        copier_argv = [sys.executable, "-m", "crownsafe.objects.cli", "--json"]
        copier_argv += ["--source-bucket", bucket, "--target-container", container]
        first = ServiceProcess(
            [*copier_argv, "--no-rewrite-urls"], work / "copier-1.log", copier_env
        )
        copy_started = time.time()
        first.start()
        kill_after = max(1, int(len(objects) * options.kill_at))
        _wait(lambda: sampler.verified() >= kill_after, 600, "copier progress to the kill point")
        killed_at = time.time()
        if first.popen is not None:
            first.popen.kill()
            first.popen.wait(10)
        faults.append(
            FaultWindow(
                kind="copier SIGKILL",
                phase="backfill",
                started_s=round(killed_at - origin, 2),
                cleared_s=round(killed_at - origin, 2),
                recovered_s=round(killed_at - origin, 2),
                max_recovery_s=0.0,
            )
        )
        say(f"cut-over drill: copier SIGKILLed after {sampler.verified()} objects; resuming")
        second = ServiceProcess(
            [*copier_argv, "--no-rewrite-urls"], work / "copier-2.log", copier_env
        ).start()
        stack.callback(second.stop)
        flip_after = int(len(objects) * options.flip_at)
        _wait(lambda: sampler.verified() >= flip_after, 600, "copier progress to the flip point")
        enter(MigrationPhase.AZURE_READS)
        time.sleep(2.0)
        down_at = time.time()
        proxy.disable()
        time.sleep(options.outage_s)
        proxy.enable()
        up_at = time.time()
        say(f"cut-over drill: Azure was down for {up_at - down_at:.1f} s (fault proxy)")
        _wait(lambda: second.exit_code() is not None, 900, "copier finish")
        copy_seconds = time.time() - copy_started
        rewrite = ServiceProcess(copier_argv, work / "copier-rows.log", copier_env).start()
        _wait(lambda: rewrite.exit_code() is not None, 300, "end of the rows rewrite")
        _wait(
            lambda: (
                sampler.fallbacks_since(options.quiet_s) == 0
                and time.time() - up_at > options.breaker_recovery_s + 2
            ),
            options.breaker_recovery_s + 240,
            f"{options.quiet_s:.0f} s without a fallback read",
            lambda: f"last samples: {sampler.samples[-3:]}, errors: {sampler.errors[-2:]}",
        )
        enter(MigrationPhase.AZURE_ONLY)
        time.sleep(options.azure_only_s)
        ended = time.time()
        locust.stop()
        sampler.stop()
        fallbacks_counted = sampler.fallback_reads()
        with engine.connect() as conn:
            fallbacks_audited = int(
                conn.execute(
                    text("SELECT count(*) FROM blob_audit_log WHERE operation = 'fallback_read'")
                ).scalar_one()
            )
        requests = read_records(records)
        outage = FaultWindow(
            kind="azure down",
            phase="azure-reads",
            started_s=round(down_at - origin, 2),
            cleared_s=round(up_at - origin, 2),
            max_recovery_s=options.breaker_recovery_s + RECOVERY_SLACK_S,
            failures=sum(not r.ok and r.t >= down_at for r in requests),
        )
        recovered = recovery_second(requests, up_at)
        outage = outage.model_copy(
            # rounded up: the last failure itself lies inside the window
            update={
                "recovered_s": None
                if recovered is None
                else math.ceil((recovered - origin) * 100) / 100
            }
        )
        faults.append(outage)
        say("cut-over drill: checking every object and row")
        final = check_everything(engine, azure, s3, objects)
        alone_rate = None
        if options.compare_alone:
            alone_rate = _copier_alone_rate(
                copier_argv, copier_env, direct, f"{container}-alone", len(objects), work, say
            )
        result = CutoverFile(
            objects_seeded=len(objects),
            phases=phase_windows(marks, ended, origin, requests, sampler.samples),
            faults=faults,
            excused=excused_failures(requests, faults, origin),
            final=final,
            fallback_quiet_s=options.quiet_s,
            backfill_objects_per_s=round(len(objects) / copy_seconds, 1),
            alone_objects_per_s=alone_rate,
            fallback_reads_counted=int(fallbacks_counted),
            fallback_reads_audited=fallbacks_audited,
            seconds=round(time.time() - began, 1),
            sabotage=options.sabotage,
        )
        for client in (azure, s3):
            with suppress(Exception):
                client.delete_container()
    (run_dir / CutoverFile.FILE).write_text(result.model_dump_json(indent=2) + "\n", "utf-8")
    return result
