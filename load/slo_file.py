"""The SLO file (`load/slos.toml`): per endpoint thresholds, parsed into typed `Slo`s.

An endpoint is named as locust names its stats entry: "METHOD name" (the `name=` of the
request, e.g. "GET /scans/[id]") or "Aggregated" for locust's total row. Each endpoint
may set any of `p95_ms`, `p99_ms` (latency percentiles, upper bounds), `error_ratio`
(failures / requests, upper bound) and `min_rps` (requests per second, lower bound).
`[defaults]` applies to every endpoint that saw requests but is not listed (not to
`Aggregated`). Anything else is an error naming its key (`SloFileError`).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, ValidationError

__all__ = [
    "AGGREGATED",
    "METRICS",
    "Slo",
    "SloFileError",
    "SloSet",
    "load_slo_file",
    "parse_slos",
]

AGGREGATED = "Aggregated"
Metric = Literal["p95_ms", "p99_ms", "error_ratio", "min_rps"]
METRICS: tuple[Metric, ...] = get_args(Metric)
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_Number = StrictInt | StrictFloat


class SloFileError(ValueError):
    """The SLO file cannot be used: `key` is where (dotted, e.g.
    `endpoints."POST /uploads".p95_ms`), `problem` what is wrong and how to fix it."""

    def __init__(self, source: str, key: str, problem: str) -> None:
        self.source, self.key, self.problem = source, key, problem
        where = f"{source}: {key}" if key else source
        super().__init__(f"{where}: {problem}")


class _Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid")

    p95_ms: Annotated[_Number, Field(gt=0)] | None = None
    p99_ms: Annotated[_Number, Field(gt=0)] | None = None
    error_ratio: Annotated[_Number, Field(ge=0, le=1)] | None = None
    min_rps: Annotated[_Number, Field(ge=0)] | None = None

    def items(self) -> list[tuple[Metric, float]]:
        values = ((m, getattr(self, m)) for m in METRICS)
        return [(m, float(v)) for m, v in values if v is not None]


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    defaults: _Thresholds = Field(default_factory=_Thresholds)
    endpoints: dict[str, _Thresholds] = Field(default_factory=dict)


@dataclass(frozen=True)
class Slo:
    """One threshold of one endpoint; `name` reads "POST /uploads p95_ms <= 800"."""

    endpoint: str
    metric: Metric
    threshold: float

    @property
    def lower_bound(self) -> bool:
        return self.metric == "min_rps"

    @property
    def name(self) -> str:
        op = ">=" if self.lower_bound else "<="
        return f"{self.endpoint} {self.metric} {op} {self.threshold:g}"

    def holds(self, measured: float) -> bool:
        return measured >= self.threshold if self.lower_bound else measured <= self.threshold


@dataclass(frozen=True)
class SloSet:
    """The parsed file: listed endpoints and the defaults for the others."""

    endpoints: Mapping[str, tuple[Slo, ...]]
    defaults: tuple[tuple[Metric, float], ...]

    def for_endpoints(self, observed: Iterable[str]) -> list[Slo]:
        """Every listed endpoint's SLOs (seen or not), then the defaults for each observed
        endpoint that is not listed (never for `Aggregated`), in a stable order."""
        slos = [slo for endpoint in self.endpoints for slo in self.endpoints[endpoint]]
        for endpoint in sorted(set(observed) - set(self.endpoints) - {AGGREGATED}):
            slos.extend(Slo(endpoint, metric, value) for metric, value in self.defaults)
        return slos


def _endpoint_problem(name: str) -> str | None:
    if name == AGGREGATED:
        return None
    method, _, rest = name.partition(" ")
    if method not in _METHODS or not rest.strip() or rest != rest.strip():
        return (
            "is not an endpoint name: write it as locust names the stats entry, "
            f'"METHOD name" (METHOD one of {", ".join(_METHODS)}), e.g. "GET /scans/[id]", '
            f'or "{AGGREGATED}"'
        )
    return None


def _key(loc: tuple[int | str, ...]) -> str:
    parts = []
    for part in loc:
        text = str(part)
        parts.append(f'"{text}"' if any(c in text for c in " ./[]") else text)
    return ".".join(parts)


def _problem(error: Mapping[str, Any]) -> str:
    if error["type"] == "extra_forbidden":
        if len(error["loc"]) == 1:
            return 'unknown section: the file has [defaults] and [endpoints."METHOD name"]'
        return f"unknown metric: use {', '.join(METRICS)}"
    if str(error["type"]).endswith(("_type", "_parsing")):
        return f"must be a number (got {error.get('input')!r})"
    return f"{error['msg']} (got {error.get('input')!r})"


def parse_slos(data: Mapping[str, Any], source: str = "SLO file") -> SloSet:
    """The SLOs of an already-decoded SLO file; `SloFileError` names the first bad key."""
    try:
        parsed = _File.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(part for part in error["loc"] if not str(part).startswith(("int", "float")))
        raise SloFileError(source, _key(loc), _problem(error)) from None
    endpoints: dict[str, tuple[Slo, ...]] = {}
    for name, thresholds in parsed.endpoints.items():
        if problem := _endpoint_problem(name):
            raise SloFileError(source, _key(("endpoints", name)), problem)
        items = thresholds.items()
        if not items:
            raise SloFileError(
                source, _key(("endpoints", name)), f"sets no threshold: give one of {METRICS}"
            )
        endpoints[name] = tuple(Slo(name, metric, value) for metric, value in items)
    return SloSet(endpoints=endpoints, defaults=tuple(parsed.defaults.items()))


def load_slo_file(path: Path) -> SloSet:
    """Read and parse the TOML file at `path`."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SloFileError(
            str(path), "", f"cannot be read ({type(exc).__name__}): pass --crownsafe-slo-file"
        ) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SloFileError(str(path), "", f"is not valid TOML ({exc})") from None
    return parse_slos(data, str(path))
