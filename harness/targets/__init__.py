"""Targets: the service implementations the contract runs on, their gap profiles, and the
compatibility matrix (promise x target) the run writes as `compatibility.json`."""

from harness.targets._gaps import Gap, GapProfile, GapProfileError, builtin_profile, load_profile
from harness.targets._parametrize import parametrize_targets, promise_of
from harness.targets._registry import (
    TARGETS,
    Target,
    build_target_service,
    default_target,
    parse_targets,
)
from harness.targets._selection import TargetSelection, selection_of
from harness.targets._services import record_services

__all__ = [
    "TARGETS",
    "Gap",
    "GapProfile",
    "GapProfileError",
    "Target",
    "TargetSelection",
    "build_target_service",
    "builtin_profile",
    "default_target",
    "load_profile",
    "parametrize_targets",
    "parse_targets",
    "promise_of",
    "record_services",
    "selection_of",
]
