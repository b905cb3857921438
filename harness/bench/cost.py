"""Monthly cost of a workload on S3 and on Azure Blob, from a price table in a data file.

The price table (`harness/bench/prices.toml`, package data) carries the migration write-up's
figures as defaults, each with its source. The model prices storage (steady state: what
`retention` days of uploads occupy), egress, write and read requests, and the request
amplification of large uploads: an object above the single-put threshold costs one request
per block or part plus the commit (Azure: Put Block x n + Put Block List) or the create and
complete calls (S3: CreateMultipartUpload + UploadPart x n + CompleteMultipartUpload). The
thresholds match crownsafe's clients (16 MiB single put; 4 MiB blocks, 8 MiB parts).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

__all__ = [
    "AZURE_UPLOAD",
    "DEFAULT_SCENARIOS",
    "GIB",
    "HOURS_PER_MONTH",
    "MIB",
    "S3_UPLOAD",
    "UPLOAD_PLANS",
    "MonthlyCost",
    "ProviderPrices",
    "UploadPlan",
    "WorkloadProfile",
    "compare_providers",
    "monthly_cost",
    "read_prices",
    "write_requests_per_upload",
]

MIB = 1024 * 1024
GIB = 1024 * MIB
HOURS_PER_MONTH = 730.0
DAYS_PER_MONTH = HOURS_PER_MONTH / 24.0


@dataclass(frozen=True)
class ProviderPrices:
    """One provider's prices in USD, with where each figure comes from."""

    key: str
    label: str
    storage_gb_month: float
    egress_gb: float
    write_ops_per_10k: float
    read_ops_per_10k: float
    sources: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class UploadPlan:
    """How a client sends one object: one PUT up to `single_put_max`, else chunks."""

    single_put_max: int
    chunk_size: int
    extra_requests: int
    description: str


AZURE_UPLOAD = UploadPlan(
    16 * MIB, 4 * MIB, 1, "Put Blob <= 16 MiB, else 4 MiB Put Block + Put Block List"
)
S3_UPLOAD = UploadPlan(
    16 * MIB, 8 * MIB, 2, "PutObject <= 16 MiB, else Create + 8 MiB UploadPart + Complete"
)
UPLOAD_PLANS: Mapping[str, UploadPlan] = {"azure": AZURE_UPLOAD, "s3": S3_UPLOAD}


@dataclass(frozen=True)
class WorkloadProfile:
    """What the application does per day, and how long it keeps objects."""

    name: str
    uploads_per_day: float
    mean_object_bytes: float
    reads_per_day: float
    retention_days: float
    egress_fraction: float = 1.0

    def __post_init__(self) -> None:
        for name in ("uploads_per_day", "mean_object_bytes", "reads_per_day", "retention_days"):
            if getattr(self, name) < 0:
                raise ValueError(f"WorkloadProfile.{name} must be >= 0")
        if not 0.0 <= self.egress_fraction <= 1.0:
            raise ValueError("WorkloadProfile.egress_fraction must be within [0, 1]")


@dataclass(frozen=True)
class MonthlyCost:
    """A profile's monthly bill on one provider (USD) and the quantities behind it."""

    provider: str
    label: str
    profile: str
    stored_gb: float
    egress_gb: float
    write_requests: float
    read_requests: float
    requests_per_upload: int
    storage_usd: float
    egress_usd: float
    write_usd: float
    read_usd: float

    @property
    def total_usd(self) -> float:
        return self.storage_usd + self.egress_usd + self.write_usd + self.read_usd


def read_prices(path: Path | None = None) -> dict[str, ProviderPrices]:
    """Read the price table (default: the packaged `harness/bench/prices.toml`)."""
    if path is None:
        text = resources.files("harness.bench").joinpath("prices.toml").read_text("utf-8")
    else:
        text = path.read_text("utf-8")
    data = tomllib.loads(text)
    prices: dict[str, ProviderPrices] = {}
    for key, row in data.get("providers", {}).items():
        try:
            prices[key] = ProviderPrices(
                key=key,
                label=str(row.get("label", key)),
                storage_gb_month=float(row["storage_gb_month"]),
                egress_gb=float(row["egress_gb"]),
                write_ops_per_10k=float(row["write_ops_per_10k"]),
                read_ops_per_10k=float(row["read_ops_per_10k"]),
                sources={
                    k.removesuffix("_source"): str(v)
                    for k, v in row.items()
                    if k.endswith("_source")
                },
            )
        except KeyError as exc:
            raise ValueError(f"price table: provider {key!r} lacks {exc.args[0]!r}") from None
    return prices


def write_requests_per_upload(size: int, plan: UploadPlan) -> int:
    """Billable write requests to upload one object of `size` bytes."""
    if size < 0:
        raise ValueError("size must be >= 0")
    if size <= plan.single_put_max:
        return 1
    return math.ceil(size / plan.chunk_size) + plan.extra_requests


def monthly_cost(profile: WorkloadProfile, prices: ProviderPrices, plan: UploadPlan) -> MonthlyCost:
    """The monthly cost of `profile` on one provider; a month is 730 hours."""
    per_upload = write_requests_per_upload(round(profile.mean_object_bytes), plan)
    stored_gb = profile.uploads_per_day * profile.retention_days * profile.mean_object_bytes / GIB
    reads = profile.reads_per_day * DAYS_PER_MONTH
    egress_gb = reads * profile.mean_object_bytes * profile.egress_fraction / GIB
    writes = profile.uploads_per_day * DAYS_PER_MONTH * per_upload
    return MonthlyCost(
        provider=prices.key,
        label=prices.label,
        profile=profile.name,
        stored_gb=stored_gb,
        egress_gb=egress_gb,
        write_requests=writes,
        read_requests=reads,
        requests_per_upload=per_upload,
        storage_usd=stored_gb * prices.storage_gb_month,
        egress_usd=egress_gb * prices.egress_gb,
        write_usd=writes / 10_000 * prices.write_ops_per_10k,
        read_usd=reads / 10_000 * prices.read_ops_per_10k,
    )


def compare_providers(
    profile: WorkloadProfile,
    prices: Mapping[str, ProviderPrices] | None = None,
    plans: Mapping[str, UploadPlan] = UPLOAD_PLANS,
) -> list[MonthlyCost]:
    """The monthly cost of `profile` on every provider that has both prices and a plan."""
    table = prices if prices is not None else read_prices()
    return [monthly_cost(profile, table[key], plans[key]) for key in table if key in plans]


_SEED_UPLOADS_PER_DAY = 1_000_000 / DAYS_PER_MONTH

DEFAULT_SCENARIOS: tuple[WorkloadProfile, ...] = (
    WorkloadProfile(
        name="Seed reference: 1 TB stored, 1M writes, 100 GB egress per month",
        uploads_per_day=_SEED_UPLOADS_PER_DAY,
        mean_object_bytes=1024 * GIB / 1_000_000,
        reads_per_day=_SEED_UPLOADS_PER_DAY,
        retention_days=DAYS_PER_MONTH,
        egress_fraction=100 / 1024,
    ),
    WorkloadProfile(
        name="Crown Safe images: 20k uploads/day of 2 MiB, 100k reads/day, kept 1 year",
        uploads_per_day=20_000,
        mean_object_bytes=2 * MIB,
        reads_per_day=100_000,
        retention_days=365,
        egress_fraction=0.5,
    ),
    WorkloadProfile(
        name="Large reports: 500 uploads/day of 100 MiB, 1k reads/day, kept 90 days",
        uploads_per_day=500,
        mean_object_bytes=100 * MIB,
        reads_per_day=1_000,
        retention_days=90,
        egress_fraction=1.0,
    ),
)
