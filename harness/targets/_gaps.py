"""Known-gaps files: the promises a target is known not to keep, with evidence and a date.

A known-gaps file is a TOML file (`harness/targets/gaps/<target slug>.toml`, or your own through
`--known-gaps PATH`) read into `KnownGaps`. Each gap is *harmless* (the test runs; failing
the documented way is a known gap, passing is reported as "gap closed", like a strict
xfail) or *unsafe* (it can crash or wedge the target: the test is not run, and the results
say why). A harmless gap may be *intermittent* (a race the target loses now and then):
failing the documented way is still the known gap, passing is not "gap closed" (a
non-strict xfail), and the matrix counts how often it showed. Ceph's s3-tests marks the
same thing with `fails_on_*` attributes.

An entry names one promise id (`test_x[1KiB]`) or a test's bare name (`test_x`), which
covers every parameter of it; the exact id wins over the bare name. An entry that matches
no test of the contract is an error (`unmatched`): a typo must not silently leave a gap
undeclared.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

__all__ = [
    "GAPS_DIR",
    "Gap",
    "KnownGaps",
    "KnownGapsError",
    "builtin_gaps",
    "read_known_gaps",
]

GAPS_DIR = Path(__file__).resolve().parent / "gaps"


class KnownGapsError(ValueError):
    """A known-gaps file that cannot be read or does not follow the format."""


class Gap(BaseModel):
    """One promise a target does not keep."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    promise: str = Field(description="contract test name without the target id")
    behaviour: str = Field(description="what the target does instead")
    evidence: str = Field(description="how it was seen: request, answer, version")
    seen: date = Field(description="when it was last seen")
    mode: Literal["harmless", "unsafe"] = "harmless"
    intermittent: bool = Field(
        default=False,
        description="the gap shows only in some runs (a race): passing is not 'gap closed'",
    )
    match: str | None = Field(
        default=None,
        description="regex the failure message must match to count as this gap; a failure "
        "that does not match is a broken promise, not the known gap",
    )

    @field_validator("match")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"match {value!r} is not a regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _intermittent_runs(self) -> Gap:
        if self.intermittent and self.mode == "unsafe":
            raise ValueError(
                f"gap {self.promise!r}: an unsafe gap is never run, so it cannot be "
                'intermittent; drop one of mode = "unsafe" / intermittent = true'
            )
        return self

    def explains(self, failure: str) -> bool:
        """Whether `failure` (the crash message) is this gap's documented behaviour."""
        return self.match is None or re.search(self.match, failure) is not None

    def covers(self, promise: str) -> bool:
        """This entry names `promise`, or its test with every parameter (`test_x`)."""
        return promise == self.promise or (
            "[" not in self.promise and promise.startswith(f"{self.promise}[")
        )


class KnownGaps(BaseModel):
    """The known gaps of one target."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = 1
    target: str
    description: str = ""
    gaps: list[Gap] = Field(default_factory=list, alias="gap")
    source: str = Field(default="", exclude=True)

    def gap_for(self, promise: str) -> Gap | None:
        """The entry for `promise`: its exact id, else its test's bare name."""
        exact = next((gap for gap in self.gaps if gap.promise == promise), None)
        return exact or next((gap for gap in self.gaps if gap.covers(promise)), None)

    def unmatched(self, promises: Iterable[str]) -> list[Gap]:
        """The entries that name none of `promises` (the contract's promise ids)."""
        known = set(promises)
        return [gap for gap in self.gaps if not any(gap.covers(p) for p in known)]


def read_known_gaps(path: Path) -> KnownGaps:
    """Read and validate a known-gaps file; KnownGapsError names the file and the problem."""
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise KnownGapsError(f"known-gaps file {path}: {exc}") from None
    try:
        gaps = KnownGaps.model_validate({**data, "source": str(path)})
    except ValidationError as exc:
        raise KnownGapsError(f"known-gaps file {path}: {exc}") from None
    promises = [gap.promise for gap in gaps.gaps]
    repeated = sorted({p for p in promises if promises.count(p) > 1})
    if repeated:
        raise KnownGapsError(f"known-gaps file {path}: promises listed twice: {repeated}")
    return gaps


def builtin_gaps(target: str) -> KnownGaps:
    """The known gaps shipped for `target` (an empty one if there is none)."""
    path = GAPS_DIR / f"{target.replace(':', '-')}.toml"
    if not path.exists():
        return KnownGaps(target=target, source="")
    gaps = read_known_gaps(path).model_copy(update={"source": f"harness/targets/gaps/{path.name}"})
    if gaps.target != target:
        raise KnownGapsError(f"known-gaps file {path} is for {gaps.target!r}, not {target!r}")
    return gaps
