"""Which targets this session runs, from --targets, --sas-targets and --known-gaps.

Computed once in `pytest_configure` (on the controller and on every xdist worker alike,
from the same options) and kept in the config's stash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import pytest

from harness.plugin import selected_backends
from harness.services.base import ProvisionMode
from harness.settings import read_settings
from harness.targets._gaps import KnownGaps, KnownGapsError, builtin_gaps, read_known_gaps
from harness.targets._registry import TARGETS, Target, default_target, parse_targets

__all__ = ["TargetSelection", "add_target_options", "selection_of"]

_KEY = pytest.StashKey["TargetSelection"]()


@dataclass(frozen=True)
class TargetSelection:
    """`full` targets run the whole contract; `sas` ones only the tests marked `sas` (the
    SAS / presigned-URL promises).

    `primary` is the first full target of each backend: the one `storage_services` holds,
    and the only one tests outside the contract suite run on.
    """

    provision: ProvisionMode
    full: tuple[Target, ...]
    sas: tuple[Target, ...] = ()
    gaps: dict[str, KnownGaps] = field(default_factory=dict)
    apis: tuple[str, ...] = ("sync", "async")
    """The storage APIs the contract runs on (--storage-apis)."""

    @property
    def primary(self) -> dict[str, Target]:
        first: dict[str, Target] = {}
        for target in self.full:
            first.setdefault(target.backend, target)
        return first

    def is_primary(self, target: Target) -> bool:
        return self.primary.get(target.backend) == target

    def for_test(self, *, contract: bool, sas: bool) -> list[Target]:
        if not contract:
            return list(self.primary.values())
        extra = [t for t in self.sas if sas and t not in self.full]
        return [*self.full, *extra]

    def gaps_of(self, target: Target) -> KnownGaps:
        return self.gaps.get(target.name) or KnownGaps(target=target.name)


def add_target_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("crownsafe", "Crown Safe harness")
    settings = read_settings()
    group.addoption(
        "--targets",
        default=settings.targets,
        help=f"comma-separated targets to run the contract on: {', '.join(TARGETS)} "
        "(a bare backend means its default target); overrides --backends "
        "(default: $HARNESS_TARGETS, else the default target of each of --backends)",
    )
    group.addoption(
        "--sas-targets",
        default=settings.sas_targets,
        help="extra targets for the tests marked `sas` (SAS / presigned-URL promises) only; "
        "'auto' (default): s3:localstack with --provision local when s3 is tested; 'none' "
        "turns it off",
    )
    group.addoption(
        "--storage-apis",
        default="sync,async",
        help="comma-separated client APIs the contract runs on: sync (the clients), async "
        "(the async clients, ids ending in -async); default both",
    )
    group.addoption(
        "--known-gaps",
        action="append",
        default=[],
        metavar="PATH",
        help="a known-gaps file (TOML) for one target; replaces that target's built-in one",
    )


def selection_of(config: pytest.Config) -> TargetSelection:
    """The session's targets (computed on first use, then kept)."""
    selection = config.stash.get(_KEY, None)
    if selection is None:
        selection = _compute(config)
        config.stash[_KEY] = selection
    return selection


def _compute(config: pytest.Config) -> TargetSelection:
    provision = cast(ProvisionMode, str(config.getoption("provision")))
    raw = str(config.getoption("targets") or "")
    try:
        if raw.strip():
            full = parse_targets(raw, provision)
            config.option.backends = ",".join(dict.fromkeys(t.backend for t in full))
        else:
            full = [default_target(b, provision) for b in selected_backends(config)]
        sas = _sas_targets(config, provision, full)
    except (ValueError, KeyError) as exc:
        raise pytest.UsageError(f"--targets / --sas-targets: {exc}") from None
    if not full:
        raise pytest.UsageError("--targets: no target given")
    gaps = {t.name: builtin_gaps(t.name) for t in (*full, *sas)}
    for path in config.getoption("known_gaps") or []:
        try:
            known = read_known_gaps(Path(path))
        except KnownGapsError as exc:
            raise pytest.UsageError(str(exc)) from None
        if known.target not in TARGETS:
            raise pytest.UsageError(
                f"known-gaps file {path} names target {known.target!r}: use one of "
                f"{', '.join(TARGETS)}"
            )
        gaps[known.target] = known
    apis = tuple(
        dict.fromkeys(
            a.strip().lower()
            for a in str(config.getoption("storage_apis") or "").split(",")
            if a.strip()
        )
    )
    unknown = [a for a in apis if a not in ("sync", "async")]
    if unknown or not apis:
        raise pytest.UsageError(
            f"--storage-apis: {', '.join(unknown) or 'nothing'} given; use sync, async or both"
        )
    return TargetSelection(provision, tuple(full), tuple(sas), gaps, apis)


def _sas_targets(
    config: pytest.Config, provision: ProvisionMode, full: list[Target]
) -> list[Target]:
    raw = str(config.getoption("sas_targets") or "auto").strip().lower()
    if raw == "none":
        return []
    if raw == "auto":
        wanted = (
            [TARGETS["s3:localstack"]]
            if provision == "local" and any(t.backend == "s3" for t in full)
            else []
        )
    else:
        wanted = parse_targets(raw, provision)
    return [t for t in wanted if t not in full]
