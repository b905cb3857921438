"""Fixtures for the benchmarks: services, operation tables, payload files, sizes.

- `storage_services` is overridden here: with `--provision local` Azurite runs in disk
  mode (`--location` in a temp folder) because in-memory Azurite never gives memory back
  (docs/emulators.md: ~5.5 GB resident after 5.5 GB of uploads) and the large-object benchmarks
  move gigabytes. Other modes are as the plugin provides them.
- `ops_for(impl, client)` gives one operation table (bench_support.Ops) for crownsafe's
  client or the raw SDK calls on the client's container.
- Levels (`--bench-level`, default from HARNESS_BENCH_LEVEL, else "quick"):
  "quick" measures 1 KiB, 1 MiB and 10 MiB objects (what `crownsafe-harness run` does);
  "full" adds 100 MiB and larger loops (`crownsafe-harness bench --full`). Under
  `--benchmark-disable` (`make test`) the level is "smoke": 1 KiB and 1 MiB, a few
  rounds, each benchmark once as a plain test.
"""

from __future__ import annotations

import random
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from bench_support import (
    LEVELS,
    MIB,
    Ops,
    crownsafe_ops,
    raw_azure_ops,
    raw_s3_ops,
    size_id,
    sizes_for,
)

from crownsafe.storage.base import StorageClient
from harness.plugin import provision_mode, selected_backends
from harness.services.provision import ProvisionedServices, start_services
from harness.settings import read_settings


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--bench-level",
        choices=LEVELS,
        default=read_settings().bench_level,
        help="quick: up to 10 MiB objects (default); full: adds 100 MiB and longer loops",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "size" in metafunc.fixturenames:
        sizes = sizes_for(metafunc.config)
        metafunc.parametrize("size", sizes, ids=[size_id(s) for s in sizes])


@pytest.fixture(scope="session")
def storage_services(request: pytest.FixtureRequest, run_dir: Path) -> Iterator[Any]:
    """The plugin's services, but Azurite on disk when local (see the module docstring)."""
    config = request.config
    mode = provision_mode(config)
    backends = selected_backends(config)
    data_dir = Path(tempfile.mkdtemp(prefix="crownsafe-bench-azurite-"))
    options = {"azure": {"location": data_dir}} if mode == "local" and "azure" in backends else {}
    services = start_services(backends, mode, options=options, log_dir=run_dir / "logs" / "bench")
    try:
        with services:
            if not (run_dir / "services.json").exists():
                services.write(run_dir)
            yield services
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def payload_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("payloads")


@pytest.fixture(scope="session")
def payload_file(payload_dir: Path) -> Callable[[int], Path]:
    """A file of `size` random bytes (made once per session) to stream uploads from."""

    def make(size: int) -> Path:
        path = payload_dir / f"payload-{size}.bin"
        if not path.exists():
            with path.open("wb") as out:
                rng = random.Random(size)
                for offset in range(0, size, 8 * MIB):
                    out.write(rng.randbytes(min(8 * MIB, size - offset)))
        return path

    return make


@pytest.fixture
def ops_for(storage_services: ProvisionedServices) -> Iterator[Callable[[str, StorageClient], Ops]]:
    """ops_for(impl, client): crownsafe's operations or the raw SDK's on client's container."""
    opened: list[Ops] = []

    def make(impl: str, client: StorageClient) -> Ops:
        if impl == "crownsafe":
            return crownsafe_ops(client)
        raw = raw_azure_ops if client.backend == "azure" else raw_s3_ops
        ops = raw(storage_services, client.container_name)
        opened.append(ops)
        return ops

    yield make
    for ops in opened:
        ops.close()
