"""Targets: the service implementations the contract runs on, their known-gaps files, and the
compatibility matrix (promise x target) the run writes as `compatibility.json`."""

from harness.targets._gaps import Gap, KnownGaps, KnownGapsError, builtin_gaps, read_known_gaps
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
    "KnownGaps",
    "KnownGapsError",
    "Target",
    "TargetSelection",
    "build_target_service",
    "builtin_gaps",
    "default_target",
    "parametrize_targets",
    "parse_targets",
    "promise_of",
    "read_known_gaps",
    "record_services",
    "selection_of",
]
