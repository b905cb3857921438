"""The API under load, beside the storage client it streams into (both backends).

- `test_api_upload_vs_direct`: one image upload through the API (`mode` multipart, or
  raw: the body is the file, with a Content-Length; both streamed into storage)
  interleaved ABBA with the same bytes uploaded by the storage client directly: MB/s of
  each and their ratio. Then CPU, in blocks interleaved four ways (API, direct, and the
  two floors of `harness.services.floor_app`, an empty app on the same server and
  settings that reads the same bodies sent the same way and drops them, or forwards
  them to a loopback discard sink, `harness.bench.sink`): the app's CPU per MiB against
  both floors', and, on the 10 MiB entry, the split of each cost into a fixed part per
  upload and a part per MiB (a line through the 1 MiB and 10 MiB costs): the app's part
  per MiB at most 2x the receive-only floor's (goal; aim 1.5x), its fixed part beside
  an aim of 5 ms; and the CPU of all measured processes (this one, the app, the
  emulator, PostgreSQL, Redis) per MiB direct / through the API, the ceiling the wall
  ratio can reach when every process is CPU-bound (goal: the wall ratio >= 0.9x that
  ceiling). One result per mode. (An API >= 0.8x direct goal was withdrawn by issue 19:
  on 2 shared cores ~0.6x is the ceiling; docs/api.md.)
- `test_concurrent_uploads_memory_and_health`: 16 concurrent 10 MB uploads while a
  client in its own process (`harness.bench.probe`: the 16 upload threads of this process
  would otherwise delay its timings with their GIL) polls `/health`; the app process's
  peak RSS growth (kernel VmHWM of the app's pid, reset first; goal < 100 MiB, where
  buffering whole bodies would need >= 160 MiB) and /health's p99 latency (goal < 100 ms).
- `test_share_resolution_vs_health`: requests/s of resolving a share link (database
  lookup + SAS generation) beside `/health`, interleaved on the same app.

Results go to `bench/api.json` in the run folder and into pytest-benchmark's extra_info.
Under `--benchmark-disable` (make test) sizes and rounds shrink to a smoke run: the
plumbing is checked, no number is a verdict. The apps run without a worker (uploads of
throughput payloads are not images a worker could process).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from bench_support import MIB, measuring

from harness import bench
from harness.bench.cputime import interleaved_cpu, tree_cpu_seconds
from harness.runfolder import merge_points
from harness.runfolder.bench import ApiBenchFile, ApiBenchResult, split_cpu
from harness.services.floor_app import FloorAppService
from harness.services.postgres import PostgresService
from harness.services.provision import ProvisionedServices
from harness.services.redis import RedisService
from harness.services.stack import ApiStack, start_api_stack

GOAL_FLOOR_RATIO = 2.0
AIM_FLOOR_RATIO = 1.5
AIM_FIXED_MS = 5.0
"""Aim for the app's fixed CPU per upload (not gated): py-spy's share of what every upload
must do (the storage request ~1.7 ms, the row ~1 ms, the message ~0.5 ms, rate limit and
token ~0.5 ms, routing and the answer ~0.5 ms); no floor measures it (docs/api.md)."""
_PER_UPLOAD_MS: dict[tuple[str, str, int], dict[str, float]] = {}
"""CPU ms per upload of app, floor and forwarding floor, by (backend, mode, size), kept
across this module's cases so the larger size can be split against the smaller."""
GOAL_CEILING_FRACTION = 0.9
GOAL_RSS_MIB = 100
GOAL_P99_S = 0.100
_JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"


def _payload(size: int) -> bytes:
    block = bytes(range(256)) * 4096
    return (_JPEG_HEAD + block * (size // len(block) + 1))[:size]


@pytest.fixture(scope="module")
def bench_stacks(
    run_dir: Path,
    storage_services: ProvisionedServices,
    postgres_service: PostgresService,
    redis_service: RedisService,
) -> Iterator[dict[str, ApiStack]]:
    """One app per backend for this module (no worker), started on first use."""
    started: dict[str, ApiStack] = {}
    yield started
    for stack in started.values():
        stack.stop()


@pytest.fixture(scope="module")
def floor_app(run_dir: Path) -> Iterator[FloorAppService]:
    """The floors: an empty ASGI app on uvicorn, started as the real app is, and the
    discard sink its forwarding floor sends to (`harness.bench.sink`, its own process)."""
    sink = subprocess.Popen(
        [sys.executable, "-m", "harness.bench.sink"], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert sink.stdout is not None
        port = int(sink.stdout.readline())
        service = FloorAppService(
            log_dir=run_dir / "logs" / "bench-api", settings_env={"FLOOR_SINK": f"127.0.0.1:{port}"}
        ).start()
        try:
            yield service
        finally:
            service.stop()
    finally:
        sink.communicate(input="", timeout=30)


@pytest.fixture
def stack(
    backend_name: str,
    bench_stacks: dict[str, ApiStack],
    run_dir: Path,
    storage_services: ProvisionedServices,
    postgres_service: PostgresService,
    redis_service: RedisService,
) -> ApiStack:
    if backend_name not in bench_stacks:
        bench_stacks[backend_name] = start_api_stack(
            storage_services, postgres_service, redis_service.url, backend_name,
            run_dir / "logs" / "bench-api", worker=False, name="bench",
            UPLOAD_MAX_BYTES=str(11 * MIB),
            # counted as in production (the limiter's cost is part of the upload path) but
            # never refusing: one bench user uploads far more than 120 a minute, 1000
            # requests a minute and 100 MB an hour
            RATE_LIMIT_UPLOADS="1000000/minute",
            API_REQUESTS_PER_MINUTE="100000000",
            UPLOAD_BYTES_PER_HOUR=str(10**15),
        )  # fmt: skip
    return bench_stacks[backend_name]


def _upload(client: httpx.Client, data: bytes, mode: str = "multipart") -> None:
    if mode == "raw":
        response = client.post("/uploads", content=data, headers={"Content-Type": "image/jpeg"})
    else:
        response = client.post("/uploads", files={"file": ("bench.jpg", data, "image/jpeg")})
    if response.status_code != 202:
        raise AssertionError(f"upload answered {response.status_code}: {response.text[:300]}")


def _record(run_dir: Path, entry: dict[str, Any]) -> None:
    """Add `entry` to bench/api.json (the same test, backend and size replaced)."""
    merge_points(run_dir, ApiBenchFile, [entry])


def _mbps(size: int, samples: list[float]) -> float:
    return size / MIB / statistics.median(samples)


def _cpu_meters(
    stack: ApiStack,
    floor: FloorAppService,
    services: ProvisionedServices,
    postgres: PostgresService,
    redis: RedisService,
) -> dict[str, Callable[[], float]]:
    """CPU-seconds readers of every process an upload touches that runs here: this one
    (the client), the app, the floor app, the emulator, PostgreSQL and Redis (a service
    in a container or elsewhere has no pid here and is left out of both sides alike)."""
    emulator = services.azure if stack.backend == "azure" else services.s3
    pids = {
        "client": os.getpid(), "app": stack.app.pid, "floor": floor.pid,
        "emulator": emulator.pid, "postgres": postgres.pid, "redis": redis.pid,
    }  # fmt: skip
    return {name: (lambda pid=pid: tree_cpu_seconds(pid)) for name, pid in pids.items() if pid}


_SIZES = (MIB, 10 * MIB)


@pytest.mark.parametrize("mode", ["multipart", "raw"])
@pytest.mark.parametrize("upload_size", _SIZES, ids=["1MiB", "10MiB"])
def test_api_upload_vs_direct(
    benchmark: Any, request: pytest.FixtureRequest, stack: ApiStack, upload_size: int,
    mode: str, run_dir: Path, floor_app: FloorAppService,
    storage_services: ProvisionedServices, postgres_service: PostgresService,
    redis_service: RedisService,
) -> None:  # fmt: skip
    """Upload through the API (multipart or raw body) vs the storage client directly,
    and its CPU per MiB against the floor's."""
    size = upload_size
    measured = measuring(request.config)
    rounds = (20 if size == MIB else 10) if measured else 2
    # CPU is counted in 10 ms ticks: blocks of calls, eight rounds (two balanced cycles)
    cpu_rounds, per_block = (8, 16 if size == MIB else 4) if measured else (1, 1)
    data = _payload(size)
    client = stack.client(user_id=1)
    floor_client = httpx.Client(
        base_url=floor_app.url, headers=dict(client.headers), timeout=60.0, trust_env=False
    )
    forward_client = httpx.Client(
        base_url=f"{floor_app.url}/forward", headers=dict(client.headers), timeout=60.0,
        trust_env=False,
    )  # fmt: skip
    counter = iter(range(10**9))
    calls: dict[str, Callable[[], object]] = {
        "api": lambda: _upload(client, data, mode),
        "direct": lambda: stack.storage.upload_file(f"bench/direct-{next(counter)}.jpg", data),
    }
    samples = bench.interleaved(calls, rounds)
    api, direct = _mbps(size, samples["api"]), _mbps(size, samples["direct"])
    ratio = api / direct
    meters = _cpu_meters(stack, floor_app, storage_services, postgres_service, redis_service)
    with floor_client, forward_client:
        _upload(floor_client, data, mode)  # warm-up: the floors' first requests
        _upload(forward_client, data, mode)
        cpu = interleaved_cpu(
            {**calls, "floor": lambda: _upload(floor_client, data, mode),
             "forward": lambda: _upload(forward_client, data, mode)},
            meters, cpu_rounds, per_block,
        )  # fmt: skip
    calls_each = cpu_rounds * per_block
    mib = calls_each * size / MIB
    app_ms, floor_ms = cpu["api"]["app"] * 1000 / mib, cpu["floor"]["floor"] * 1000 / mib
    forward_ms = cpu["forward"]["floor"] * 1000 / mib
    shared = [m for m in meters if m != "floor"]
    api_all = sum(cpu["api"][m] for m in shared) * 1000 / mib
    direct_all = sum(cpu["direct"][m] for m in shared) * 1000 / mib
    entry = {
        "test": "upload_vs_direct", "backend": stack.backend, "size_bytes": size, "mode": mode,
        "api_mb_s": round(api, 2), "direct_mb_s": round(direct, 2), "ratio": round(ratio, 3),
        "app_cpu_ms_per_mib": round(app_ms, 3), "floor_cpu_ms_per_mib": round(floor_ms, 3),
        "floor_ratio": round(app_ms / floor_ms, 3) if floor_ms > 0 else None,
        "forward_cpu_ms_per_mib": round(forward_ms, 3),
        "forward_ratio": round(app_ms / forward_ms, 3) if forward_ms > 0 else None,
        "app_cpu_ms_per_upload": round(cpu["api"]["app"] * 1000 / calls_each, 3),
        "goal_floor_ratio": None, "aim_floor_ratio": AIM_FLOOR_RATIO,
        "api_cpu_ms_per_mib": round(api_all, 3), "direct_cpu_ms_per_mib": round(direct_all, 3),
        "cpu_ceiling": round(direct_all / api_all, 3) if api_all > 0 else None,
        "goal_ceiling_fraction": GOAL_CEILING_FRACTION, "cpu_calls": cpu_rounds * per_block,
        "rounds": rounds, "measured": measured,
    }  # fmt: skip
    meter_of = {"api": "app", "floor": "floor", "forward": "floor"}
    per_upload = {k: cpu[k][m] * 1000 / calls_each for k, m in meter_of.items()}
    _PER_UPLOAD_MS[stack.backend, mode, size] = per_upload
    smaller = [k for k in _PER_UPLOAD_MS if k[:2] == (stack.backend, mode) and k[2] < size]
    if size == max(_SIZES):
        entry["goal_floor_ratio"] = GOAL_FLOOR_RATIO  # the per-MiB part is gated
        entry["aim_fixed_ms"] = AIM_FIXED_MS
    if size == max(_SIZES) and smaller:
        small = max(smaller)
        entry["split_from_bytes"] = small[2]
        parts = {
            name: split_cpu(small[2] / MIB, _PER_UPLOAD_MS[small][k], size / MIB, per_upload[k])
            for k, name in (("api", "app"), ("floor", "floor"), ("forward", "forward"))
        }  # fmt: skip
        for name, (fixed, per_mib) in parts.items():
            entry[f"{name}_fixed_ms"] = round(fixed, 3)
            entry[f"{name}_per_mib_ms"] = round(per_mib, 3)
        if parts["floor"][1] > 0:
            entry["per_mib_ratio"] = round(parts["app"][1] / parts["floor"][1], 3)
    entry["goal_met"] = not ApiBenchResult.model_validate(entry).missed_goals()
    _record(run_dir, entry)
    benchmark.extra_info.update(entry)
    benchmark.pedantic(_upload, args=(client, data, mode), rounds=max(1, rounds // 2), iterations=1)
    print(f"[{stack.backend}] {size // MIB} MiB {mode}: API {api:.1f} MB/s, "
          f"direct {direct:.1f} MB/s, ratio {ratio:.2f} (CPU ceiling {entry['cpu_ceiling']}, "
          f"goal >= {GOAL_CEILING_FRACTION}x it); app {app_ms:.2f} vs floor {floor_ms:.2f} "
          f"(forwarding {forward_ms:.2f}) CPU ms/MiB = {entry['floor_ratio']}x; per MiB beyond "
          f"the fixed part: {entry.get('per_mib_ratio')}x the floor's (goal <= "
          f"{GOAL_FLOOR_RATIO}x, aim {AIM_FLOOR_RATIO}x), fixed {entry.get('app_fixed_ms')} ms "
          f"per upload (aim {AIM_FIXED_MS})")  # fmt: skip
    assert len(samples["api"]) == len(samples["direct"]) == rounds
    assert set(meters) >= {"client", "app", "floor"}, f"CPU meters: {sorted(meters)}"


class _Peak:
    """Peak RSS of another process: its VmHWM reset through /proc/<pid>/clear_refs,
    else a 2 ms psutil sampler."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.baseline = self.process.memory_info().rss
        self._samples = [self.baseline]
        self._stop = threading.Event()
        self.kernel = False
        try:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
            self.kernel = self._hwm() is not None
        except OSError:
            pass
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _hwm(self) -> int | None:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        return None

    def _sample(self) -> None:
        while not self._stop.wait(0.002):
            self._samples.append(self.process.memory_info().rss)

    def added_mib(self) -> float:
        self._stop.set()
        self._thread.join()
        peak = max(self._samples)
        if self.kernel:
            peak = max(peak, self._hwm() or 0)
        return (peak - self.baseline) / MIB


class _Probe:
    """/health polled from its own process (`harness.bench.probe`) while uploads run."""

    def __init__(self, url: str) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "harness.bench.probe", url],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self._process.stdout is not None
        if self._process.stdout.readline().strip() != "ready":
            self._process.kill()
            raise AssertionError("the /health prober did not start")

    def stop(self) -> list[float]:
        out, _ = self._process.communicate(input="", timeout=60)
        if self._process.returncode != 0:
            raise AssertionError(f"/health answered other than 200 during the uploads: {out}")
        latencies: list[float] = json.loads(out.strip().splitlines()[-1])
        return latencies


def test_concurrent_uploads_memory_and_health(
    benchmark: Any, request: pytest.FixtureRequest, stack: ApiStack, run_dir: Path
) -> None:
    """16 concurrent 10 MB uploads: app RSS growth and /health p99 while they run."""
    measured = measuring(request.config)
    count, size = (16, 10 * MIB) if measured else (4, MIB)
    data = _payload(size)
    clients = [stack.client(user_id=2) for _ in range(count)]
    probe = _Probe(f"{stack.url}/health")
    assert stack.app.pid is not None
    peak = _Peak(stack.app.pid)
    began = time.perf_counter()
    with ThreadPoolExecutor(count) as pool:
        list(pool.map(lambda c: _upload(c, data), clients))
    elapsed = time.perf_counter() - began
    latencies = probe.stop()
    added = peak.added_mib()
    p99 = statistics.quantiles(latencies, n=100)[98] if len(latencies) >= 2 else latencies[0]
    entry = {
        "test": "concurrent_uploads", "backend": stack.backend, "size_bytes": size,
        "uploads": count, "seconds": round(elapsed, 3),
        "aggregate_mb_s": round(count * size / MIB / elapsed, 2),
        "app_peak_rss_growth_mib": round(added, 1), "goal_rss_mib": GOAL_RSS_MIB,
        "rss_method": "kernel VmHWM" if peak.kernel else "psutil sampling",
        "health_requests": len(latencies),
        "health_p50_ms": round(statistics.median(latencies) * 1000, 2),
        "health_p99_ms": round(p99 * 1000, 2), "goal_p99_ms": GOAL_P99_S * 1000,
        "goal_met": added < GOAL_RSS_MIB and p99 < GOAL_P99_S, "measured": measured,
    }  # fmt: skip
    _record(run_dir, entry)
    benchmark.extra_info.update(entry)
    prober = stack.client()
    benchmark.pedantic(lambda: prober.get("/health"), rounds=5, iterations=1)
    print(f"[{stack.backend}] {count} x {size // MIB} MiB concurrent: app RSS +{added:.1f} MiB, "
          f"/health p99 {p99 * 1000:.1f} ms over {len(latencies)} requests")  # fmt: skip
    stored = stack.storage.list_blobs(prefix="uploads/2/")
    assert len(stored) == count and all(b.size == size for b in stored)
    assert latencies, "/health was never answered during the uploads"


def test_share_resolution_vs_health(
    benchmark: Any, request: pytest.FixtureRequest, stack: ApiStack, run_dir: Path
) -> None:
    """Share-link resolutions/s beside /health requests/s, interleaved on one app."""
    rounds = 300 if measuring(request.config) else 5
    client = stack.client(user_id=3)
    scan = client.post("/scans", json={"product_name": "bench", "risk_score": 10}).json()
    token = client.post(f"/scans/{scan['id']}/shares", json={"format": "json"}).json()["token"]

    def resolve() -> None:
        assert client.get(f"/shares/{token}").status_code == 200

    def health() -> None:
        assert client.get("/health").status_code == 200

    samples = bench.interleaved({"share": resolve, "health": health}, rounds, warmup=5)
    share_rps = 1 / statistics.mean(samples["share"])
    health_rps = 1 / statistics.mean(samples["health"])
    entry = {
        "test": "share_resolution", "backend": stack.backend, "size_bytes": None,
        "share_rps": round(share_rps, 1), "health_rps": round(health_rps, 1),
        "ratio": round(share_rps / health_rps, 3), "rounds": rounds,
        "measured": measuring(request.config),
    }  # fmt: skip
    _record(run_dir, entry)
    benchmark.extra_info.update(entry)
    benchmark.pedantic(resolve, rounds=max(1, rounds // 10), iterations=1)
    print(f"[{stack.backend}] share resolution {share_rps:.0f} req/s, /health {health_rps:.0f} "
          f"req/s (sequential, one client)")  # fmt: skip
    assert len(samples["share"]) == rounds
