"""What the security guards cost (issue 21): "Rate limiting plus auditing add at most 1 ms to
the p50 of a small request and at most 3% to a 10 MB upload's time, against the same app
with both off." Per backend (Azure on Azurite, S3 on moto).

Three apps side by side on one stack (one PostgreSQL database, one Redis, one emulator
container), each uvicorn started the same way over real HTTP, no worker:

    on         the app as shipped: rate limits counted in Redis (RATE_LIMIT_UPLOADS,
               RATE_LIMIT_SHARES, RATE_LIMIT_UNAUTHENTICATED, UPLOAD_BYTES_PER_HOUR,
               API_REQUESTS_PER_MINUTE set far above what the benchmark sends, so they
               count and never refuse), an audit row per blob operation in blob_audit_log
    on_again   a second process of the same app: the A/A pair (on vs on_again) is the
               noise floor, process-to-process differences included
    off        `harness.services.unguarded_app`: the same app built by `create_app`, every
               rate limit `off` and its audit trail replaced by one that writes nothing
               (a test-only factory: the product has no switch for the trail)

Each app has its own user (its own counters and rows). One interleaved loop per request
(`harness.bench.interleaved`: one request to each app per round, the order rotating
through a balanced design, warm-up rounds dropped, a time budget after the least rounds):

- small requests, goal: on's median (p50) at most 1 ms above off's. `share_create`
  (POST /scans/{id}/shares: the `requests` and `shares` limits, a `share_created` row in
  the share's transaction, a JSON snapshot stored) and `share_resolve` (GET
  /shares/{token}: the `requests` limit, a `share_resolved` row in a transaction of its
  own). The difference of medians with a 95% bootstrap CI over whole rounds,
  the A/A floor and the verdict (rules: harness/bench/overhead.py `added_time_verdict`)
  go to `bench/added_time.json`.
- a 10 MiB raw-body upload (POST /uploads: the `requests`, `uploads` and `upload-bytes`
  limits, the `upload` row in the job row's transaction): ops/s on / off with its CI, goal >= 1/1.03
  (at most 3% more time), the A/A floor and the verdict (`goal_verdict`) go to
  `bench/ratios.json`.

Every entry's run also checks that the sides differed as claimed: on's and on_again's
requests each wrote one audit row and off's none, upload job rows were written by all
three, on's requests were counted in Redis by every policy `LIMITED_BY` names and off's
by none (the policies seen are recorded). Under `--benchmark-disable` (make test) a few
rounds and a 1 MiB upload check the plumbing; no number is a verdict. Emulator numbers,
labelled as such.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from bench_support import MIB, level
from sqlalchemy import create_engine, func, select

from crownsafe.db.models import BlobAuditLog, ImageJob
from harness import bench
from harness.bench import overhead
from harness.bench.cputime import interleaved_cpu, tree_cpu_seconds
from harness.bench.overhead import RatioGoal, TimeGoal
from harness.runfolder import merge_points
from harness.runfolder.bench import AddedTimeFile, RatiosFile
from harness.services.app import AppService
from harness.services.postgres import PostgresService
from harness.services.provision import ProvisionedServices
from harness.services.redis import RedisService
from harness.services.stack import ApiStack, start_api_stack
from harness.services.unguarded_app import UnguardedAppService

APPS = ("on", "off", "on_again")
AA = ("on", "on_again")
SMALL = TimeGoal(
    "guards_on_vs_off", "on", "off", 0.001,
    "issue 21: rate limits + audit add <= 1 ms to a small request's p50",
)  # fmt: skip
UPLOAD = RatioGoal(
    "guards_on_vs_off", "on", "off", round(1 / 1.03, 4),
    "issue 21: rate limits + audit add <= 3% to a 10 MB upload's time",
)  # fmt: skip
LIMITED_BY = {
    "share_create": ("requests", "shares"),
    "share_resolve": ("requests",),
    "api_upload": ("requests", "uploads", "upload-bytes"),
}
"""The rate-limit policies each request must be counted against on `on`."""
# (warm-up rounds, least timed rounds, most timed rounds, time budget in s) per level
SMALL_ROUNDS = {
    "smoke": (2, 4, 4, 0.0), "quick": (20, 200, 2000, 15.0), "full": (50, 600, 8000, 60.0),
}  # fmt: skip
UPLOAD_ROUNDS = {"smoke": (1, 2, 2, 0.0), "quick": (2, 20, 200, 30.0), "full": (4, 40, 400, 90.0)}
# CPU: (rounds, calls per block) per level; each round one block per app, in turn
SMALL_CPU = {"smoke": (1, 1), "quick": (8, 24), "full": (16, 48)}
UPLOAD_CPU = {"smoke": (1, 1), "quick": (8, 2), "full": (16, 4)}
_JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"


@dataclass
class GuardApps:
    """The three apps of one backend on one stack (the stack's app is `on`)."""

    stack: ApiStack
    others: dict[str, AppService]
    redis_url: str
    service_pids: list[int]
    """The processes every app's requests share here: emulator, PostgreSQL, Redis."""
    _users: Iterator[int] = field(default_factory=lambda: iter(range(1000, 10**6)))
    _clients: list[httpx.Client] = field(default_factory=list)

    def url(self, app: str) -> str:
        return self.stack.url if app == "on" else self.others[app].url

    def clients(self) -> dict[str, tuple[int, httpx.Client]]:
        """A new user per app, and an httpx client on that app authenticated as it."""
        out = {}
        for app in APPS:
            user = next(self._users)
            client = httpx.Client(
                base_url=self.url(app), timeout=60.0, trust_env=False,
                headers={"Authorization": f"Bearer {self.stack.token(user)}"},
            )  # fmt: skip
            self._clients.append(client)
            out[app] = (user, client)
        return out

    def pid(self, app: str) -> int:
        pid = self.stack.app.pid if app == "on" else self.others[app].pid
        assert pid is not None, f"{app} runs elsewhere: no CPU to read"
        return pid

    def owner_client(self) -> httpx.Client:
        """A client of a new user on `on`, for what the timed requests need beforehand."""
        return self.stack.client(user_id=next(self._users))

    def stop(self) -> None:
        for client in self._clients:
            client.close()
        for service in self.others.values():
            service.stop()
        self.stack.stop()


def _start(stack: ApiStack, log_dir: Path) -> dict[str, AppService]:
    """The A/A twin and the unguarded app on the stack's settings, started side by side."""
    services: dict[str, AppService] = {
        "on_again": AppService(settings_env=stack.env, log_dir=log_dir),
        "off": UnguardedAppService(settings_env=stack.env, log_dir=log_dir),
    }
    with ThreadPoolExecutor(len(services)) as pool:
        errors = [e for e in pool.map(_start_one, services.values()) if e is not None]
    if errors:
        for service in services.values():
            service.stop()
        raise errors[0]
    return services


def _start_one(service: AppService) -> BaseException | None:
    try:
        service.start()
    except BaseException as error:
        return error
    return None


@pytest.fixture(scope="module")
def guard_apps_by_backend(
    storage_services: ProvisionedServices,
    postgres_service: PostgresService,
    redis_service: RedisService,
) -> Iterator[dict[str, GuardApps]]:
    """Per backend, started on first use: its three apps (this module's)."""
    started: dict[str, GuardApps] = {}
    yield started
    for apps in started.values():
        apps.stop()


@pytest.fixture
def guard_apps(
    backend_name: str,
    guard_apps_by_backend: dict[str, GuardApps],
    run_dir: Path,
    storage_services: ProvisionedServices,
    postgres_service: PostgresService,
    redis_service: RedisService,
) -> GuardApps:
    if backend_name not in guard_apps_by_backend:
        log_dir = run_dir / "logs" / "bench-security"
        stack = start_api_stack(
            storage_services, postgres_service, redis_service.url, backend_name, log_dir,
            worker=False, name="guards", UPLOAD_MAX_BYTES=str(11 * MIB),
            # every limit on and counting, far above what one benchmark user sends
            RATE_LIMIT_UPLOADS="1000000/minute", RATE_LIMIT_SHARES="1000000/minute",
            RATE_LIMIT_UNAUTHENTICATED="1000000/minute", UPLOAD_BYTES_PER_HOUR=str(10**13),
            API_REQUESTS_PER_MINUTE=str(10**7),
        )  # fmt: skip
        try:
            others = _start(stack, log_dir)
        except BaseException:
            stack.stop()
            raise
        emulator = storage_services.azure if backend_name == "azure" else storage_services.s3
        pids = [p for p in (emulator.pid, postgres_service.pid, redis_service.pid) if p]
        guard_apps_by_backend[backend_name] = GuardApps(stack, others, redis_service.url, pids)
    return guard_apps_by_backend[backend_name]


def _expect(response: httpx.Response, status: int, what: str) -> httpx.Response:
    if response.status_code != status:
        raise AssertionError(f"{what} answered {response.status_code}: {response.text[:300]}")
    return response


def _payload(size: int) -> bytes:
    block = bytes(range(256)) * 4096
    return (_JPEG_HEAD + block * (size // len(block) + 1))[:size]


def _rows_by_app(
    database_url: str,
    users: dict[str, int],
    model: type[BlobAuditLog] | type[ImageJob],
    operation: str | None = None,
) -> dict[str, int]:
    """Rows of `model` per app's user (audit rows: of `operation` only, when given)."""
    query = select(model.user_id, func.count()).where(model.user_id.in_(list(users.values())))
    if operation is not None:
        query = query.where(BlobAuditLog.operation == operation)
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(query.group_by(model.user_id)).all()
    finally:
        engine.dispose()
    counted = {user: int(count) for user, count in rows}
    return {app: counted.get(user, 0) for app, user in users.items()}


def _limits_counted(redis_url: str, users: dict[str, int]) -> dict[str, list[str]]:
    """The rate-limit rules with a Redis counter of each app's user (the rule is the key's
    part before the subject `user:<id>`)."""
    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    try:
        out: dict[str, list[str]] = {}
        for app, user in users.items():
            rules = set()
            for key in client.scan_iter(match=f"*/user:{user}/*", count=1000):
                parts = key.decode().split("/")
                rules.add(parts[parts.index(f"user:{user}") - 1])
            out[app] = sorted(rules)
        return out
    finally:
        client.close()


def _counted(
    calls: dict[str, Callable[[], object]],
) -> tuple[dict[str, Callable[[], None]], dict[str, int]]:
    """`calls` wrapped to count how often each ran."""
    counts = dict.fromkeys(calls, 0)

    def wrap(app: str) -> Callable[[], None]:
        def call() -> None:
            calls[app]()
            counts[app] += 1

        return call

    return {app: wrap(app) for app in calls}, counts


def _create_share(client: httpx.Client, scan_id: int) -> httpx.Response:
    response = client.post(f"/scans/{scan_id}/shares", json={"format": "json"})
    return _expect(response, 201, "share creation")


def _resolve_share(client: httpx.Client, token: str) -> httpx.Response:
    return _expect(client.get(f"/shares/{token}"), 200, "share resolution")


def _scan(client: httpx.Client) -> int:
    scan = client.post("/scans", json={"product_name": "bench", "risk_score": 10})
    return int(_expect(scan, 201, "scan").json()["id"])


def _small_calls(
    operation: str, apps: GuardApps, clients: dict[str, tuple[int, httpx.Client]]
) -> tuple[dict[str, Callable[[], object]], str]:
    """One request per app, and the audit operation each writes. Creating: each app's
    user shares a scan of its own. Resolving: each app's user resolves a link another
    user made beforehand (the link is the capability), so the resolver's counters and
    rows hold the timed requests only."""
    calls: dict[str, Callable[[], object]] = {}
    if operation == "share_create":
        for app, (_, client) in clients.items():
            calls[app] = partial(_create_share, client, _scan(client))
        return calls, "share_created"
    owner = apps.owner_client()
    for app, (_, client) in clients.items():
        token = str(_create_share(owner, _scan(owner)).json()["token"])
        calls[app] = partial(_resolve_share, client, token)
    return calls, "share_resolved"


def _cpu_ms_per_call(
    apps: GuardApps, calls: dict[str, Callable[[], None]], rounds: int, per_block: int
) -> dict[str, float]:
    """CPU ms per request of each app's own process, and of the processes they share
    (emulator, PostgreSQL, Redis) while that app's blocks ran: what the guards cost in
    work, which wall time on a shared machine blurs (interleaved blocks, 10 ms ticks)."""
    meters: dict[str, Callable[[], float]] = {
        app: partial(tree_cpu_seconds, apps.pid(app)) for app in APPS
    }
    meters["services"] = lambda: sum(tree_cpu_seconds(pid) for pid in apps.service_pids)
    cpu = interleaved_cpu(calls, meters, rounds, per_block)
    per_call = 1000 / (rounds * per_block)
    out = {f"cpu_ms_app_{app}": round(cpu[app][app] * per_call, 3) for app in APPS}
    out |= {f"cpu_ms_services_{app}": round(cpu[app]["services"] * per_call, 3) for app in APPS}
    return out


def _setup(
    apps: GuardApps,
    users: dict[str, int],
    counts: dict[str, int],
    audited: str,
    limited_by: tuple[str, ...],
) -> dict[str, int | float | str | list[str]]:
    """What the run saw of the sides (each app's user is new to this test); asserts that
    on and on_again audited every request and off none, that off counted nothing, and
    that on counted its requests against every policy of `limited_by`."""
    added = _rows_by_app(apps.stack.database_url, users, BlobAuditLog, audited)
    limits = _limits_counted(apps.redis_url, users)
    assert added["off"] == 0 and not limits["off"], f"off audited {added} / counted {limits}"
    assert set(limited_by) <= set(limits["on"]), f"on counted only {limits['on']}"
    assert added["on"] == counts["on"] and added["on_again"] == counts["on_again"], (
        f"every request of the guarded apps writes one {audited} row: {added} vs {counts}"
    )
    return {
        "audited_operation": audited,
        **{f"requests_{app}": counts[app] for app in APPS},
        **{f"audit_rows_{app}": added[app] for app in APPS},
        **{f"limits_counted_{app}": limits[app] for app in APPS},
    }


def _cpu_line(cpu: dict[str, float]) -> str:
    return "CPU ms per request, app + shared services: " + ", ".join(
        f"{app} {cpu[f'cpu_ms_app_{app}']:.2f} + {cpu[f'cpu_ms_services_{app}']:.2f}"
        for app in APPS
    )


@pytest.mark.parametrize("operation", ["share_create", "share_resolve"])
def test_guards_small_request(
    benchmark: Any, request: pytest.FixtureRequest, guard_apps: GuardApps, operation: str,
    run_dir: Path,
) -> None:  # fmt: skip
    """On's p50 minus off's for a small request (goal <= +1 ms), with the A/A floor."""
    bench_level = level(request.config)
    warmup, least, most, budget_s = SMALL_ROUNDS[bench_level]
    clients = guard_apps.clients()
    users = {app: user for app, (user, _) in clients.items()}
    plain, audited = _small_calls(operation, guard_apps, clients)
    calls, counts = _counted(plain)
    samples = bench.interleaved(calls, least, warmup=warmup, budget_s=budget_s, max_rounds=most)
    entry = overhead.added_time_entry(
        SMALL, samples, AA, backend=guard_apps.stack.backend, operation=operation,
        size_bytes=None, warmup=warmup, measured=bench_level != "smoke",
    )  # fmt: skip
    cpu = _cpu_ms_per_call(guard_apps, calls, *SMALL_CPU[bench_level])
    benchmark.pedantic(calls["on"], rounds=max(1, least // 20), iterations=1)
    entry["setup"] = _setup(guard_apps, users, counts, audited, LIMITED_BY[operation]) | cpu
    merge_points(run_dir, AddedTimeFile, [{**entry, "profile": bench_level, "emulator": True}])
    benchmark.extra_info.update({k: v for k, v in entry.items() if not k.endswith("_s")})
    on_ms, off_ms = entry["candidate_median_s"] * 1000, entry["reference_median_s"] * 1000
    print(f"[guards] {guard_apps.stack.backend} {operation}: on {on_ms:.2f} ms, off "
          f"{off_ms:.2f} ms: {entry['reason']}; limits counted: "
          f"{entry['setup']['limits_counted_on']}; {_cpu_line(cpu)}")  # fmt: skip
    assert len(samples["on"]) == len(samples["off"]) >= least
    assert entry["ci_low_s"] <= entry["difference_s"] <= entry["ci_high_s"]
    assert bench_level != "smoke" or entry["verdict"] == "undecided"


def test_guards_upload(
    benchmark: Any, request: pytest.FixtureRequest, guard_apps: GuardApps, run_dir: Path
) -> None:
    """A 10 MiB raw-body upload's ops/s on / off (goal >= 1/1.03), with the A/A floor."""
    bench_level = level(request.config)
    warmup, least, most, budget_s = UPLOAD_ROUNDS[bench_level]
    size = MIB if bench_level == "smoke" else 10 * MIB
    data = _payload(size)
    clients = guard_apps.clients()
    users = {app: user for app, (user, _) in clients.items()}
    headers = {"Content-Type": "image/jpeg"}

    def upload(client: httpx.Client) -> object:
        return _expect(client.post("/uploads", content=data, headers=headers), 202, "upload")

    plain: dict[str, Callable[[], object]] = {
        app: partial(upload, client) for app, (_, client) in clients.items()
    }
    calls, counts = _counted(plain)
    samples = bench.interleaved(calls, least, warmup=warmup, budget_s=budget_s, max_rounds=most)
    entry = overhead.ratio_entry(
        UPLOAD, samples, AA, backend=guard_apps.stack.backend, operation="api_upload",
        size_bytes=size, warmup=warmup, measured=bench_level != "smoke",
    )  # fmt: skip
    cpu = _cpu_ms_per_call(guard_apps, calls, *UPLOAD_CPU[bench_level])
    benchmark.pedantic(calls["on"], rounds=max(1, least // 10), iterations=1)
    setup = _setup(guard_apps, users, counts, "upload", LIMITED_BY["api_upload"]) | cpu
    jobs = _rows_by_app(guard_apps.stack.database_url, users, ImageJob)
    merge_points(run_dir, RatiosFile, [{**entry, "profile": bench_level, "emulator": True}])
    benchmark.extra_info.update(
        {**{k: v for k, v in entry.items() if not k.endswith("_s")}, "setup": setup, "jobs": jobs}
    )
    time_ratio = entry["candidate_median_s"] / entry["reference_median_s"]
    print(f"[guards] {guard_apps.stack.backend} {size // MIB} MiB upload: on/off time "
          f"{time_ratio:.3f}x; ops/s {entry['reason']}; limits counted: "
          f"{setup['limits_counted_on']}; {_cpu_line(cpu)}")  # fmt: skip
    assert jobs == counts, f"every upload of every app wrote its job row: {jobs} vs {counts}"
    assert 0 < entry["ci_low"] <= entry["ratio"] <= entry["ci_high"]
    assert bench_level != "smoke" or entry["verdict"] == "undecided"
