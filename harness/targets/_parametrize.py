"""Parametrizing tests by target, and naming the promise each test checks.

Kept apart from `harness.targets.plugin` so the storage fixtures can call it without
importing the plugin module before pytest registers it.
"""

from __future__ import annotations

import pytest

from harness.targets._registry import Target
from harness.targets._selection import TargetSelection, selection_of

__all__ = ["API_SUFFIX", "parametrize_targets", "promise_of", "test_id_of"]

API_SUFFIX = {"sync": "", "async": "-async"}
"""What a storage API adds to a target's test id: `[azure]` sync, `[azure-async]` async."""


def test_id_of(target: Target, selection: TargetSelection, api: str) -> str:
    """The test id of `target` on `api` ("sync": the target's own id)."""
    return target.test_id(selection.provision) + API_SUFFIX[api]


def parametrize_targets(metafunc: pytest.Metafunc) -> None:
    """Run a test that uses `storage_target` once per target (unless it parametrizes
    `backend_name` itself). Targets other than the first of a backend are grouped for
    xdist's loadgroup, so only one worker starts their service.

    A contract test runs once per target and storage API (`--storage-apis`, default sync
    and async): the async clients, through `harness.fixtures.async_bridge`, get the same
    tests under ids ending in `-async` (`[azure-async]`, `[s3-localstack-async]`)."""
    if "storage_target" not in metafunc.fixturenames:
        return
    for marker in metafunc.definition.iter_markers("parametrize"):
        argnames = marker.args[0] if marker.args else marker.kwargs.get("argnames", "")
        names = argnames.split(",") if isinstance(argnames, str) else list(argnames)
        if {"backend_name", "storage_target"} & {n.strip() for n in names}:
            return
    selection = selection_of(metafunc.config)
    definition = metafunc.definition
    targets = selection.for_test(
        contract=definition.get_closest_marker("contract") is not None,
        sas=definition.get_closest_marker("sas") is not None,
    )
    contract = definition.get_closest_marker("contract") is not None
    apis = selection.apis if contract else ("sync",)
    params = [
        pytest.param(
            t.name,
            api,
            id=test_id_of(t, selection, api),
            marks=() if selection.is_primary(t) else (pytest.mark.xdist_group(f"target-{t.slug}"),),
        )
        for t in targets
        for api in apis
    ]
    metafunc.parametrize(("storage_target", "storage_api"), params, indirect=True)


def promise_of(item: pytest.Item, target: Target, selection: TargetSelection) -> str:
    """The promise a test checks: `@pytest.mark.promise("id")`, else its name without the
    target id (`test_x[1KiB-s3-localstack]` -> `test_x[1KiB]`; the async client's
    `test_x[1KiB-s3-localstack-async]` checks the same promise)."""
    marker = item.get_closest_marker("promise")
    if marker is not None and marker.args:
        return str(marker.args[0])
    name = getattr(item, "originalname", None) or item.name
    callspec = getattr(item, "callspec", None)
    rest = str(callspec.id) if callspec is not None else ""
    api = str(callspec.params.get("storage_api", "sync")) if callspec is not None else "sync"
    tid = test_id_of(target, selection, api if api in API_SUFFIX else "sync")
    if rest == tid:
        rest = ""
    elif rest.endswith(f"-{tid}"):
        rest = rest[: -len(tid) - 1]
    elif rest.startswith(f"{tid}-"):
        rest = rest[len(tid) + 1 :]
    else:
        rest = rest.replace(f"-{tid}-", "-")
    return f"{name}[{rest}]" if rest else name
