"""Every pre-deployment check, in the order they run (config, database, storage, sas,
services). Ids are stable: CI, the JSON and the JUnit file refer to them."""

from __future__ import annotations

from harness.predeploy.checks import config, cors, database, sas, services, storage
from harness.predeploy.model import Check

__all__ = ["ALL_CHECKS", "check_ids"]

ALL_CHECKS: tuple[Check, ...] = (
    *config.CHECKS,
    *database.CHECKS,
    *storage.CHECKS,
    *cors.CHECKS,
    *sas.CHECKS,
    *services.CHECKS,
)


def check_ids() -> list[str]:
    return [check.id for check in ALL_CHECKS]
