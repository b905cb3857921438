"""The fault matrix: every toxic and HTTP fault x every operation, per backend.

For each cell: nothing hangs (pytest-timeout and a per-call deadline), the call either
succeeds or raises a typed `StorageError`, and no data is lost or corrupted: after an
acknowledged upload the blob reads back byte-exact (SHA-256, read directly, not through
the proxy); after a failed upload the blob is absent or complete, never partial. Every
cell goes into resilience.json.
"""

from __future__ import annotations

import gc
import io
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest
import requests

from crownsafe.errors import StorageError, StorageThrottledError, StorageUnavailableError
from crownsafe.resilience import CircuitBreaker, RetryPolicy
from crownsafe.storage.base import StorageClient
from crownsafe.storage.resilient import ResilientStorageClient
from harness.faults import Proxy
from harness.faults.summary import ResilienceSummary
from harness.fixtures.faults import RecordedSleeps, proxy_endpoint
from harness.fixtures.storage import build_storage_client, unique_container_name
from harness.testdata import payload

from .conftest import KIB, MAX_RETRIES, MIB, sha256

pytestmark = [
    pytest.mark.resilience,
    pytest.mark.timeout(120),
    # A response cut short inside the Azure SDK's parser (limit_data) leaves the SDK's pooled
    # socket to the garbage collector; its ResourceWarning may land in any later test. That
    # is the fault under test, not a leak of ours: ignore exactly that warning, here only.
    pytest.mark.filterwarnings(
        "ignore:Exception ignored in. <socket.socket:pytest.PytestUnraisableExceptionWarning"
    ),
]

Expect = Literal["ok", "recover", "fail", "any"]


@dataclass(frozen=True)
class Fault:
    name: str
    apply: Callable[[Proxy], object]
    expect: Expect
    timeout: float = 5.0
    max_retries: int = MAX_RETRIES


def _toxics(*specs: tuple[str, str, str, dict[str, int]], toxicity: float = 1.0) -> Any:
    def apply(proxy: Proxy) -> None:
        for name, kind, stream, attributes in specs:
            proxy.add_toxic(name, kind, stream, toxicity, attributes)

    return apply


FAULTS = [
    Fault("latency", _toxics(("lat_down", "latency", "downstream", {"latency": 40, "jitter": 10}),
                             ("lat_up", "latency", "upstream", {"latency": 5})), "ok"),
    Fault("bandwidth", _toxics(("bw_down", "bandwidth", "downstream", {"rate": 20_000}),
                               ("bw_up", "bandwidth", "upstream", {"rate": 20_000})), "ok"),
    Fault("slow_close", _toxics(("sc", "slow_close", "downstream", {"delay": 50})), "ok"),
    Fault("slicer", _toxics(
        ("sl_down", "slicer", "downstream", {"average_size": 1024, "size_variation": 256,
                                             "delay": 20}),
        ("sl_up", "slicer", "upstream", {"average_size": 4096, "size_variation": 1024,
                                         "delay": 20})), "ok"),
    Fault("timeout", _toxics(("to", "timeout", "downstream", {"timeout": 200})), "fail"),
    Fault("timeout_hold", _toxics(("hold", "timeout", "upstream", {"timeout": 0})), "fail",
          timeout=0.5, max_retries=1),
    Fault("reset_peer", _toxics(("rst", "reset_peer", "upstream", {"timeout": 0})), "fail"),
    Fault("reset_peer_flaky", _toxics(("rst", "reset_peer", "downstream", {"timeout": 0}),
                                      toxicity=0.5), "any"),
    Fault("limit_data_down", _toxics(("lim", "limit_data", "downstream", {"bytes": 300})), "any"),
    Fault("limit_data_up", _toxics(("lim", "limit_data", "upstream", {"bytes": 128 * KIB})),
          "any"),
    Fault("down", lambda p: p.disable(), "fail"),
    Fault("http_503_twice", lambda p: p.add_http_fault("busy", 503, first_n=2), "recover"),
    Fault("http_500", lambda p: p.add_http_fault("internal", 500), "fail"),
    Fault("http_429_half", lambda p: p.add_http_fault("throttle", 429, probability=0.5), "any"),
    Fault("http_408_once", lambda p: p.add_http_fault("slow", 408, first_n=1), "recover"),
    Fault("http_503_retry_after",
          lambda p: p.add_http_fault("busy", 503, first_n=1, retry_after=1), "recover"),
]  # fmt: skip

MULTIBLOCK = {
    "azure": {"single_put_threshold": 256 * KIB, "block_size": 64 * KIB, "max_concurrency": 2},
    "s3": {"multipart_threshold": 5 * MIB, "part_size": 5 * MIB, "max_concurrency": 2},
}
MULTIBLOCK_SIZE = {"azure": 640 * KIB, "s3": 6 * MIB + 7}


class ClientPool:
    """One container and a few clients per backend for the whole matrix.

    Building a client costs up to a second (boto3 loads its service model per session), so
    the matrix shares one container per backend (each cell under its own prefix) and one
    proxied client per (backend, timeout); every cell still gets a fresh resilient wrapper
    and breaker.
    """

    def __init__(self, services: Any) -> None:
        self.services = services
        self.containers: dict[str, str] = {}
        self.clients: dict[tuple[str, str | None, float], StorageClient] = {}

    def direct(self, backend: str) -> StorageClient:
        return self._client(backend, None, 30.0)

    def proxied(self, backend: str, endpoint: str, timeout: float) -> StorageClient:
        return self._client(backend, endpoint, timeout)

    def _client(self, backend: str, endpoint: str | None, timeout: float) -> StorageClient:
        key = (backend, endpoint, timeout)
        if key not in self.clients:
            if backend not in self.containers:
                self.containers[backend] = unique_container_name("resilience-matrix")
            client = build_storage_client(
                self.services,
                backend,
                self.containers[backend],
                endpoint,
                timeout=timeout,
                **MULTIBLOCK[backend],
            )
            if endpoint is None:
                client.create_container(exist_ok=True)
            self.clients[key] = client
        return self.clients[key]

    def close(self) -> None:
        for backend in self.containers:
            direct = self.direct(backend)
            try:
                direct.delete_container(missing_ok=True)  # both backends delete the contents
            except StorageError:
                for blob in direct.iter_blobs():
                    direct.delete_blob(blob.name, missing_ok=True)
                direct.delete_container(missing_ok=True)
        for client in self.clients.values():
            client.close()


@pytest.fixture(autouse=True)
def collect_cut_short_sockets() -> Iterator[None]:
    """Collect sockets the SDK dropped while this test's warning filter still applies."""
    yield
    gc.collect()


@pytest.fixture(scope="module")
def pool(storage_services: Any) -> Iterator[ClientPool]:
    shared = ClientPool(storage_services)
    yield shared
    shared.close()


@dataclass
class Case:
    backend: str
    client: Any
    direct: Any
    timeout: float
    max_retries: int
    prefix: str
    data: bytes = b""
    attempts: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.prefix}blob.bin"


def _upload(case: Case, size: int, stream: bool) -> None:
    case.data = payload(size, seed=size)
    body: Any = io.BytesIO(case.data) if stream else case.data
    case.client.upload_file(case.name, body, content_type="application/octet-stream")


def _verify_upload(case: Case, succeeded: bool) -> bool:
    """True if data was lost or corrupted."""
    exists = case.direct.blob_exists(case.name)
    if succeeded and not exists:
        return True
    if exists:
        return sha256(case.direct.download_blob(case.name)) != sha256(case.data)
    return False


def _seed(case: Case, size: int = 3 * KIB) -> None:
    case.data = payload(size, seed=7)
    case.direct.upload_file(case.name, case.data)


def _download(case: Case) -> bytes:
    return bytes(case.client.download_blob(case.name))


def _list(case: Case) -> list[str]:
    return sorted(b.name for b in case.client.list_blobs(prefix=case.prefix))


def _sas_fetch(case: Case) -> bytes:
    """Generate a SAS / presigned URL and GET it with a plain HTTP client (retried)."""
    url = case.client.generate_sas_url(case.name, expiry_hours=1, permission="r")

    def fetch() -> bytes:
        case.attempts += 1
        try:
            response = requests.get(url, timeout=case.timeout)
        except requests.RequestException as exc:
            raise StorageUnavailableError(f"SAS fetch failed: {type(exc).__name__}") from None
        if response.status_code in (429, 503):
            raise StorageThrottledError("SAS fetch throttled", status=response.status_code)
        if response.status_code >= 500 or response.status_code == 408:
            raise StorageUnavailableError("SAS fetch failed", status=response.status_code)
        if response.status_code != 200:
            raise StorageError("SAS fetch refused", status=response.status_code)
        return response.content

    policy = RetryPolicy(max_retries=case.max_retries, base_delay=0.01, sleep=RecordedSleeps())
    return policy.call(fetch)


def _run(operation: str, case: Case) -> Callable[[], Any]:
    if operation == "upload_small":
        return lambda: _upload(case, KIB, stream=False)
    if operation == "upload_multiblock":
        return lambda: _upload(case, MULTIBLOCK_SIZE[case.backend], stream=True)
    _seed(case)
    if operation == "list":
        for extra in ("a.txt", "b.txt"):
            case.direct.upload_file(case.prefix + extra, b"x")
    return {
        "download": lambda: _download(case),
        "list": lambda: _list(case),
        "sas_fetch": lambda: _sas_fetch(case),
        "delete": lambda: case.client.delete_blob(case.name),
    }[operation]


def _lost(operation: str, case: Case, succeeded: bool, result: Any) -> bool:
    """Did the call lose or corrupt data (or acknowledge something untrue)?"""
    if operation.startswith("upload"):
        return _verify_upload(case, succeeded)
    if operation == "delete":
        gone = not case.direct.blob_exists(case.name)
        return succeeded and not gone
    intact = sha256(case.direct.download_blob(case.name)) == sha256(case.data)
    if not intact:
        return True
    if not succeeded:
        return False
    if operation == "list":
        return bool(result != sorted([case.prefix + "a.txt", case.prefix + "b.txt", case.name]))
    return sha256(result) != sha256(case.data)


STAT_NAMES = {
    "upload_small": "upload_file",
    "upload_multiblock": "upload_file",
    "download": "download_blob",
    "list": "list_blobs",
    "delete": "delete_blob",
}
OPERATIONS = ["upload_small", "upload_multiblock", "download", "list", "sas_fetch", "delete"]


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_fault_matrix(
    backend_name: str,
    fault_proxy: Proxy,
    storage_services: Any,
    pool: ClientPool,
    resilience_summary: ResilienceSummary,
    fault: Fault,
    operation: str,
) -> None:
    """Typed error or success within the deadline, and no data lost or corrupted."""
    endpoint = proxy_endpoint(fault_proxy, backend_name, storage_services)
    client = ResilientStorageClient(
        pool.proxied(backend_name, endpoint, fault.timeout),
        breaker=CircuitBreaker(f"matrix-{backend_name}"),
        max_retries=fault.max_retries,
        base_delay=0.01,
        max_delay=1.0,
        sleep=RecordedSleeps(),
    )
    direct = pool.direct(backend_name)
    prefix = f"{fault.name}/{operation}/"
    case = Case(backend_name, client, direct, fault.timeout, fault.max_retries, prefix)
    call = _run(operation, case)
    fault_proxy.reset_counters()
    fault.apply(fault_proxy)

    deadline = (fault.max_retries + 1) * (3 * fault.timeout + 2) + 10
    started = time.monotonic()
    result: Any = None
    error: BaseException | None = None
    try:
        result = call()
    except Exception as exc:  # an untyped error is recorded, then fails the test below
        error = exc
    elapsed = time.monotonic() - started
    requests_seen = fault_proxy.stats().requests_total
    fault_proxy.reset()  # heal the network before checking the data directly
    succeeded = error is None
    attempts = (
        case.attempts
        if operation == "sas_fetch"
        else client.stats()[STAT_NAMES[operation]]["attempts"]
    )
    lost = _lost(operation, case, succeeded, result)
    resilience_summary.record(
        fault=fault.name,
        operation=operation,
        backend=backend_name,
        attempts=attempts,
        succeeded=succeeded,
        lost=lost,
        requests=requests_seen,
        error=type(error).__name__ if error else None,
        typed=error is None or isinstance(error, StorageError),
    )
    where = f"[{backend_name}] {fault.name} x {operation}"
    if error is not None and not isinstance(error, StorageError):
        raise AssertionError(
            f"{where}: untyped {type(error).__name__} escaped the client (a StorageError "
            f"subclass was expected): {error}"
        ) from error
    assert not lost, f"{where}: data lost or corrupted (succeeded={succeeded}, error={error!r})"
    assert elapsed < deadline, f"{where}: took {elapsed:.1f} s (deadline {deadline:.1f} s)"
    assert 1 <= attempts <= fault.max_retries + 1, f"{where}: {attempts} attempts"
    if fault.expect in ("ok", "recover"):
        assert succeeded, f"{where}: expected success, got {error!r}"
    if fault.expect == "fail":
        assert not succeeded, f"{where}: expected a typed error, the call succeeded"
        assert attempts == fault.max_retries + 1, f"{where}: {attempts} attempts"
