"""Fixtures for targets (loaded by harness.plugin); all overridable by name.

- `storage_target`: the `Target` of this test (parametrized by the plugin);
- `storage_api`: "sync" or "async", the client API of a contract test (parametrized with
  the target; "sync" elsewhere);
- `target_services`: the started services of that target, a `ProvisionedServices` whose
  `.s3` / `.azure` is the target's service (the session's `storage_services` for the first
  target of a backend, else a service started on first use and kept for the session);
- `target_pool` (session): those extra services, stopped at the end of the session.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.services.provision import ProvisionedServices, start_services
from harness.targets._registry import TARGETS, Target, build_target_service
from harness.targets._selection import TargetSelection, selection_of
from harness.targets._services import record_services
from harness.targets.watch import watch_of

__all__ = ["TargetPool", "storage_api", "storage_target", "target_pool", "target_services"]


class TargetPool:
    """Services of the non-primary targets, each started once, when a test first needs it."""

    def __init__(self, selection: TargetSelection, run_dir: Path, worker: str) -> None:
        self.selection = selection
        self.run_dir = run_dir
        self.worker = worker
        self._started: dict[str, ProvisionedServices] = {}

    def get(self, target: Target) -> ProvisionedServices:
        if target.name not in self._started:
            service = build_target_service(
                target, self.selection.provision, self.run_dir / "logs" / self.worker
            )
            handle = start_services(
                [target.backend], service.mode, prebuilt={target.backend: service}
            )
            self._started[target.name] = handle
            record_services(self.run_dir, handle, {target.backend: target}, primary=False)
        return self._started[target.name]

    def stop(self) -> None:
        for handle in self._started.values():
            handle.stop()
        self._started.clear()


@pytest.fixture
def storage_api(request: pytest.FixtureRequest) -> str:
    """The storage API of this test's clients: "sync", or "async" (the async client behind
    `harness.fixtures.async_bridge.BlockingStorageClient`); parametrized with the target."""
    return str(getattr(request, "param", "sync"))


@pytest.fixture
def storage_target(request: pytest.FixtureRequest, storage_api: str) -> Target:
    """The target of this test, e.g. `s3:localstack` (parametrized by the plugin)."""
    name = getattr(request, "param", None)
    if name is None:
        raise pytest.UsageError(
            "storage_target / backend_name are parametrized by the harness plugin for tests "
            "that use them; a session- or module-scoped fixture cannot depend on them"
        )
    return TARGETS[str(name)]


@pytest.fixture(scope="session")
def target_pool(request: pytest.FixtureRequest, run_dir: Path) -> Iterator[TargetPool]:
    worker = getattr(request.config, "workerinput", {}).get("workerid", "main")
    pool = TargetPool(selection_of(request.config), run_dir, worker)
    yield pool
    pool.stop()


@pytest.fixture
def target_services(
    request: pytest.FixtureRequest, storage_target: Target, target_pool: TargetPool
) -> ProvisionedServices:
    """The started services of this test's target (see the module docstring); where the
    target listens goes to the watch of targets that stop answering (harness.targets.watch)."""
    if selection_of(request.config).is_primary(storage_target):
        services: ProvisionedServices = request.getfixturevalue("storage_services")
    else:
        services = target_pool.get(storage_target)
    if storage_target.backend in services:
        service = services.services[storage_target.backend]
        describe = getattr(service, "describe", None)
        if callable(describe):
            watch_of(request.config).saw(storage_target.name, str(describe()))
    return services
