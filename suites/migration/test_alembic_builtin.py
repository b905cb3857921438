"""pytest-alembic's built-in checks, on a fresh database of the harness's PostgreSQL.

The default four (single head, upgrade base -> head, models match the DDL the
revisions produce, every revision up/down/up) and the two experimental ones (a
downgrade leaves no trace; every model is registered on the MetaData env.py imports).
"""

from __future__ import annotations

import pytest
from pytest_alembic.runner import MigrationContext
from pytest_alembic.tests import (
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)
from pytest_alembic.tests.experimental import (
    test_all_models_register_on_metadata as _all_models_register_on_metadata,
)
from pytest_alembic.tests.experimental import (
    test_downgrade_leaves_no_trace,
)

from .conftest import REPO_ROOT

__all__ = [
    "test_all_models_register_on_metadata",
    "test_downgrade_leaves_no_trace",
    "test_model_definitions_match_ddl",
    "test_single_head_revision",
    "test_up_down_consistency",
    "test_upgrade",
]

pytestmark = pytest.mark.migration


def test_all_models_register_on_metadata(
    alembic_runner: MigrationContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every model under crownsafe.db is on the MetaData a bare env.py import sees."""
    monkeypatch.chdir(REPO_ROOT)  # its subprocess reads ./alembic.ini
    _all_models_register_on_metadata(alembic_runner, "crownsafe.db")


def test_history_is_the_documented_chain(alembic_runner: MigrationContext) -> None:
    """The history is S3-era schema -> the original backend's column rename (b8c97058b7e6)
    -> progress table -> the API's share/report/image-result columns -> the cut-over phase
    log -> the blob audit log."""
    assert alembic_runner.history.revisions == [
        "base",
        "5e3a1c9d2f47",
        "b8c97058b7e6",
        "c4d2e8f1a7b3",
        "d7a1f3b5c9e2",
        "e2b6c0d4a9f1",
        "f3c8d1e5a7b2",
        "heads",
    ]
