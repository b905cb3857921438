"""How the report names things: operations, sizes, backends, comparisons (pure strings)."""

from __future__ import annotations

from crownsafe.config import BACKENDS
from harness.bench.overhead import judged, judged_added
from harness.numbers import fmt
from harness.runfolder import RunData
from harness.runfolder.bench import AddedTime, MemoryPoint, OverheadRatio, ScrapePoint

__all__ = [
    "API_OP_LABELS",
    "BACKENDS",
    "BACKEND_LABELS",
    "BENCH_NAMES",
    "COMPARISON_LABELS",
    "KIB",
    "MIB",
    "OP_LABELS",
    "OP_ORDER",
    "OP_VARIANTS",
    "added_label",
    "comparison_label",
    "fmt",
    "memory_label",
    "op_label",
    "ordered_added",
    "ordered_ratios",
    "ratio_label",
    "readable",
    "row_label",
    "scrape_label",
    "scrape_points",
    "size_label",
]

KIB, MIB = 1024, 1024 * 1024
BACKEND_LABELS = {"azure": "Azure", "s3": "S3"}
OP_LABELS = {
    "upload": "Upload",
    "download": "Download",
    "sas": "Generate URL",
    "list_100": "List 100 blobs",
    "head": "Head",
    "delete": "Delete",
}
OP_ORDER = list(OP_LABELS)
API_OP_LABELS = {
    "api_upload": "API upload",
    "share_create": "Create a share link",
    "share_resolve": "Resolve a share link",
}
"""Requests to the API that benchmarks compare (not storage operations)."""
COMPARISON_LABELS = {
    "crownsafe_vs_raw": "crownsafe / raw SDK",
    "resilient_vs_bare": "resilient / bare client",
    "guards_on_vs_off": "rate limits + audit on / off",
}


def size_label(size: int | None) -> str:
    if size is None:
        return ""
    for unit, scale in (("GiB", 1024 * MIB), ("MiB", MIB), ("KiB", KIB)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} B"


# Benchmark operations that are another operation run a different way: (operation, how).
OP_VARIANTS = {"migrate-objects-1-worker": ("migrate-objects", "1 worker")}


# Benchmarks that record no `extra_info["operation"]` and so are named after their test
# function (benchmarks/test_bench_api.py): what each one measures.
BENCH_NAMES = {
    "test_api_upload_vs_direct": "Upload through the API",
    "test_share_resolution_vs_health": "Share-link resolution",
    "test_concurrent_uploads_memory_and_health": "Concurrent API uploads",
}


def readable(operation: str) -> str:
    """A name for an operation the report has no label for: a benchmark without
    `extra_info["operation"]` is named after its test function, which is no reader's name:
    its name in BENCH_NAMES, else its words (`test_list_all` -> "List all")."""
    if operation in BENCH_NAMES:
        return BENCH_NAMES[operation]
    if not operation.startswith("test_"):
        return operation
    words = operation.removeprefix("test_").replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def op_label(operation: str, size: int | None, objects: int | None = None) -> str:
    """e.g. "Upload 1 KiB"; a benchmark over many objects is named by their count, not by
    one object's size ("migrate-objects 2,000 objects, 1 worker")."""
    base, how = OP_VARIANTS.get(operation, (operation, ""))
    name = OP_LABELS.get(base) or API_OP_LABELS.get(base) or readable(base)
    amount = f"{objects:,} objects" if objects else size_label(size)
    return ", ".join(p for p in (f"{name} {amount}".strip(), how) if p)


def comparison_label(r: OverheadRatio) -> str:
    """e.g. "crownsafe / raw SDK"."""
    return COMPARISON_LABELS.get(r.comparison, f"{r.candidate} / {r.reference}")


def row_label(r: OverheadRatio) -> str:
    """e.g. "Azure Upload 1 KiB"."""
    return f"{BACKEND_LABELS.get(r.backend, r.backend)} {op_label(r.operation, r.size_bytes)}"


def ratio_label(r: OverheadRatio) -> str:
    """e.g. "Azure Upload 1 KiB: crownsafe / raw SDK"."""
    return f"{row_label(r)}: {comparison_label(r)}"


def added_label(a: AddedTime) -> str:
    """e.g. "Azure Create a share link: rate limits + audit on / off"."""
    where = f"{BACKEND_LABELS.get(a.backend, a.backend)} {op_label(a.operation, a.size_bytes)}"
    return f"{where}: {COMPARISON_LABELS.get(a.comparison, f'{a.candidate} - {a.reference}')}"


def memory_label(p: MemoryPoint) -> str:
    return f"{BACKEND_LABELS.get(p.backend, p.backend)} {op_label(p.operation, p.size_bytes)}"


def ordered_ratios(run: RunData) -> list[OverheadRatio]:
    """bench/ratios.json entries, judged by the one goal rule (`harness.bench.overhead.
    decide`, not the verdict stored in the file): crownsafe vs SDK first, then by backend,
    op and size."""
    order = {name: i for i, name in enumerate(COMPARISON_LABELS)}
    return sorted(
        judged(run.bench.ratios),
        key=lambda r: (order.get(r.comparison, len(order)), r.backend, r.operation, r.size_bytes),
    )


def ordered_added(run: RunData) -> list[AddedTime]:
    """bench/added_time.json entries, judged by the one rule (`harness.bench.overhead.
    decide_added`), by comparison, backend, operation."""
    return sorted(
        judged_added(run.bench.added_time), key=lambda a: (a.comparison, a.backend, a.operation)
    )


def scrape_points(run: RunData) -> list[ScrapePoint]:
    """bench/scrape.json entries by backend, each judged by `ScrapePoint.decide` (today's
    rule, not the verdict stored in the file)."""
    out = []
    for point in sorted(run.bench.scrape, key=lambda p: p.backend):
        verdict, reason = point.decide()
        out.append(point.model_copy(update={"verdict": verdict, "reason": reason}))
    return out


def scrape_label(p: ScrapePoint) -> str:
    """e.g. "Azure /metrics scrape under load"."""
    return f"{BACKEND_LABELS.get(p.backend, p.backend)} /metrics scrape under load"
