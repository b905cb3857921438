"""The named targets: which service implementation answers behind a backend.

A *target* is `backend:implementation` (`s3:localstack`). The backend says which crownsafe
client talks to it; the implementation says which provider starts or finds the service.
Each backend has a default target per provision mode (moto and Azurite locally, LocalStack
and Azurite in Docker, the given endpoints in external mode); a default target keeps the
bare backend as its test id (`[s3]`) so ids stay what they were before targets existed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from harness.services.azurite import AzuriteService
from harness.services.base import ManagedService, ProvisionMode
from harness.services.localstack import LocalStackService
from harness.services.s3 import S3Service

__all__ = [
    "TARGETS",
    "Target",
    "build_target_service",
    "default_target",
    "parse_targets",
]


@dataclass(frozen=True)
class Target:
    """One service implementation behind a backend, e.g. `s3:localstack`."""

    name: str
    description: str

    @property
    def backend(self) -> str:
        return self.name.split(":", 1)[0]

    @property
    def implementation(self) -> str:
        return self.name.split(":", 1)[1]

    @property
    def slug(self) -> str:
        """`s3-localstack`: a test id and a file name (its first token is the backend)."""
        return self.name.replace(":", "-")

    def test_id(self, provision: ProvisionMode) -> str:
        """The bare backend for the default target of `provision`, else the slug."""
        return self.backend if default_target(self.backend, provision) == self else self.slug


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target("azure:azurite", "Azurite 3.35 (npm azurite), a local process or its image"),
        Target("azure:external", "an Azure Blob endpoint given by HARNESS_AZURE_* variables"),
        Target("s3:moto", "moto's S3 server (moto[server] 5.x), a local process"),
        Target("s3:localstack", "LocalStack 4.13.1 S3 with presigned-URL signatures checked"),
        Target("s3:external", "an S3-compatible endpoint given by HARNESS_S3_* variables"),
    )
}

_DEFAULTS: dict[ProvisionMode, dict[str, str]] = {
    "local": {"azure": "azure:azurite", "s3": "s3:moto"},
    "docker": {"azure": "azure:azurite", "s3": "s3:localstack"},
    "external": {"azure": "azure:external", "s3": "s3:external"},
}


def default_target(backend: str, provision: ProvisionMode) -> Target:
    """The target a backend means when no --targets are given."""
    return TARGETS[_DEFAULTS[provision][backend]]


def parse_targets(raw: str | Iterable[str], provision: ProvisionMode) -> list[Target]:
    """`"azure,s3:localstack"` -> targets, in order, without repeats.

    A bare backend name means its default target; an unknown name raises ValueError that
    lists the known ones.
    """
    names = raw.split(",") if isinstance(raw, str) else list(raw)
    targets: list[Target] = []
    for name in (n.strip().lower() for n in names):
        if not name:
            continue
        if name in _DEFAULTS[provision]:
            name = _DEFAULTS[provision][name]
        if name not in TARGETS:
            known = ", ".join(TARGETS)
            raise ValueError(f"unknown target {name!r}: use one of {known} (or azure, s3)")
        if TARGETS[name] not in targets:
            targets.append(TARGETS[name])
    return targets


def build_target_service(
    target: Target, provision: ProvisionMode, log_dir: Path | None = None
) -> ManagedService:
    """An unstarted provider for `target`; emulators run in Docker only with --provision docker
    (moto has no image of ours and always runs locally)."""
    emulator_mode: ProvisionMode = "docker" if provision == "docker" else "local"
    if target.name == "azure:azurite":
        return AzuriteService(emulator_mode, log_dir=log_dir)
    if target.name == "azure:external":
        return AzuriteService("external", log_dir=log_dir)
    if target.name == "s3:moto":
        return S3Service("local", log_dir=log_dir)
    if target.name == "s3:localstack":
        return LocalStackService(emulator_mode, log_dir=log_dir)
    if target.name == "s3:external":
        return S3Service("external", log_dir=log_dir)
    raise ValueError(f"no provider for target {target.name!r}")
