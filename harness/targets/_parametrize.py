"""Parametrizing tests by target, and naming the promise each test checks.

Kept apart from `harness.targets.plugin` so the storage fixtures can call it without
importing the plugin module before pytest registers it.
"""

from __future__ import annotations

import pytest

from harness.targets._registry import Target
from harness.targets._selection import TargetSelection, selection_of

__all__ = ["parametrize_targets", "promise_of"]


def parametrize_targets(metafunc: pytest.Metafunc) -> None:
    """Run a test that uses `storage_target` once per target (unless it parametrizes
    `backend_name` itself). Targets other than the first of a backend are grouped for
    xdist's loadgroup, so only one worker starts their service."""
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
    params = [
        pytest.param(
            t.name,
            id=t.test_id(selection.provision),
            marks=() if selection.is_primary(t) else (pytest.mark.xdist_group(f"target-{t.slug}"),),
        )
        for t in targets
    ]
    metafunc.parametrize("storage_target", params, indirect=True)


def promise_of(item: pytest.Item, target: Target, selection: TargetSelection) -> str:
    """The promise a test checks: `@pytest.mark.promise("id")`, else its name without the
    target id (`test_x[1KiB-s3-localstack]` -> `test_x[1KiB]`)."""
    marker = item.get_closest_marker("promise")
    if marker is not None and marker.args:
        return str(marker.args[0])
    name = getattr(item, "originalname", None) or item.name
    callspec = getattr(item, "callspec", None)
    rest = str(callspec.id) if callspec is not None else ""
    tid = target.test_id(selection.provision)
    if rest == tid:
        rest = ""
    elif rest.endswith(f"-{tid}"):
        rest = rest[: -len(tid) - 1]
    elif rest.startswith(f"{tid}-"):
        rest = rest[len(tid) + 1 :]
    else:
        rest = rest.replace(f"-{tid}-", "-")
    return f"{name}[{rest}]" if rest else name
