"""The API suite: every test runs once per backend against a running app and worker.

Fixtures come from the harness plugin (`harness/fixtures/api.py`); helpers live in
`helpers.py`. Each backend's tests share one xdist group, so one xdist worker starts that
backend's app + worker once instead of every worker starting all of them.
"""

from __future__ import annotations

import pytest

from harness.plugin import backend_of


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "/suites/api/" not in f"/{item.nodeid}" and not item.nodeid.startswith("suites/api"):
            continue
        item.add_marker(pytest.mark.api)
        backend = backend_of(item)
        if backend is not None:
            item.add_marker(pytest.mark.xdist_group(f"api-{backend}"))
