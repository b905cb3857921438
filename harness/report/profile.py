"""Run profiles: what a release decision requires, as data (`profiles/*.toml`).

A profile names the suites that must have run (and on which backends), whether the
resilience and migration results and the benchmark goals must be present, and whether load
SLOs are required. The analysis turns it into a table of *assessed items* and the verdict:
ready (everything required assessed and passed), not ready (something failed), incomplete
(something required not assessed). `--profile NAME|PATH` picks one; `default` is what
`make run` runs.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = [
    "DEFAULT_PROFILE",
    "PROFILE_DIR",
    "ProfileError",
    "RunProfile",
    "available_profiles",
    "read_run_profile",
]

PROFILE_DIR = Path(__file__).resolve().parent / "profiles"
DEFAULT_PROFILE = "default"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SuiteRequirement(_Strict):
    name: str = Field(description="the suite, as in suites/<name>.json")
    backends: list[str] = Field(
        default_factory=list, description="backends it must have run on; empty: any test counts"
    )


class ResilienceRequirement(_Strict):
    backends: list[str] = Field(default_factory=list)


class MigrationRequirement(_Strict):
    required: bool = True


class CutoverRequirement(_Strict):
    required: bool = Field(
        False, description="cutover.json: the live S3 -> Azure cut-over drill (harness.cutover)"
    )


class AlertsRequirement(_Strict):
    required: bool = Field(
        False, description="alerts.json: the outage drill (harness.alerts), per backend"
    )
    backends: list[str] = Field(
        default_factory=list, description="backends the drill must have run on; empty: any"
    )


class BenchmarkRequirement(_Strict):
    backends: list[str] = Field(default_factory=list)
    goals: list[str] = Field(default_factory=list)
    memory: bool = False
    api: bool = Field(False, description="bench/api.json: the API upload, memory and p99 goals")
    scrape: bool = Field(
        False, description="bench/scrape.json: a scrape of /metrics under load, p99 < 50 ms"
    )
    undecided_fails: bool = False


class LoadRequirement(_Strict):
    required: bool = False
    backends: list[str] = Field(
        default_factory=list,
        description="backends a judged load run (not a step search) must have run on, each "
        "with its SLOs evaluated; empty: any backend counts",
    )


class RunProfile(_Strict):
    name: str
    description: str = ""
    suites: list[SuiteRequirement] = Field(default_factory=list)
    resilience: ResilienceRequirement | None = None
    migration: MigrationRequirement = Field(default_factory=MigrationRequirement)
    cutover: CutoverRequirement = Field(default_factory=CutoverRequirement)
    alerts: AlertsRequirement = Field(default_factory=AlertsRequirement)
    benchmarks: BenchmarkRequirement = Field(default_factory=BenchmarkRequirement)
    load: LoadRequirement = Field(default_factory=LoadRequirement)


class ProfileError(Exception):
    """A profile that does not exist or does not parse; the message says which and why."""


def available_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILE_DIR.glob("*.toml"))


def read_run_profile(name_or_path: str | Path = DEFAULT_PROFILE) -> RunProfile:
    """A bundled profile by name (`default`, `contract`, `load`) or a TOML file by path."""
    text = str(name_or_path)
    path = Path(text) if text.endswith(".toml") or "/" in text else PROFILE_DIR / f"{text}.toml"
    if not path.is_file():
        raise ProfileError(
            f"run profile {text!r} not found: pass one of {', '.join(available_profiles())} "
            "or the path of a .toml file"
        )
    try:
        return RunProfile.model_validate(tomllib.loads(path.read_text("utf-8")))
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"run profile {path}: not TOML ({exc})") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ProfileError(f"run profile {path}: {where}: {first['msg']}") from None
