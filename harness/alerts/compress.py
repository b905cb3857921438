"""Time compression of alert rules, for a drill that must fit in a minute.

The rules of deploy/prometheus/ wait minutes (`for: 2m`, `rate(...[5m])`); a drill inside
`make run` has seconds. `compress_rules` copies a rule file with every duration divided by
one factor: each rule's `for:`, and in each expression its range selectors (`[5m]`), the
range and step of a subquery (`[5m:1m]`) and each `offset`. Nothing else changes: the
expression's structure, its labels, annotations and thresholds are the file's own (5% stays
5%, 5 s stays 5 s). So the drill proves that the expressions and labels fire on the real
metrics of a real outage; the real durations are proved by `promtool test rules`
(deploy/prometheus/crownsafe.rules.test.yml).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import yaml

__all__ = [
    "CompressedRule",
    "CompressionError",
    "compress_expression",
    "compress_rules",
    "format_duration",
    "parse_duration",
    "rule_timings",
]

_UNITS_MS = {
    "y": 365 * 24 * 3600_000,
    "w": 7 * 24 * 3600_000,
    "d": 24 * 3600_000,
    "h": 3600_000,
    "m": 60_000,
    "s": 1000,
    "ms": 1,
}
_PART = re.compile(r"(\d+)(ms|y|w|d|h|m|s)")
_DURATION = re.compile(r"(?:\d+(?:ms|y|w|d|h|m|s))+")
# `[5m]`, `[5m:]`, `[5m:1m]` (a range or a subquery), and `offset 5m`
_RANGE = re.compile(r"\[\s*(?P<range>" + _DURATION.pattern + r")\s*(?::\s*(?P<step>"
                    + _DURATION.pattern + r")?\s*)?\]")  # fmt: skip
_OFFSET = re.compile(r"(?P<kw>\boffset\s+)(?P<d>-?" + _DURATION.pattern + r")")


class CompressionError(ValueError):
    """A rule file or a factor the compression cannot honour; says which and why."""


def parse_duration(text: str) -> int:
    """Milliseconds of a Prometheus duration ('1h30m', '5m', '500ms')."""
    text = text.strip()
    if not text or not _DURATION.fullmatch(text):
        raise CompressionError(f"{text!r} is not a Prometheus duration (e.g. 5m, 1h30m, 500ms)")
    return sum(int(n) * _UNITS_MS[unit] for n, unit in _PART.findall(text))


def format_duration(ms: int) -> str:
    """The shortest Prometheus duration for `ms` milliseconds (10000 -> '10s')."""
    if ms <= 0:
        raise CompressionError(f"a duration must be positive, not {ms} ms")
    parts: list[str] = []
    for unit in ("h", "m", "s", "ms"):
        size = _UNITS_MS[unit]
        if ms >= size:
            parts.append(f"{ms // size}{unit}")
            ms %= size
    return "".join(parts)


def _scaled(text: str, factor: float) -> str:
    return format_duration(max(1, math.floor(parse_duration(text) / factor)))


def compress_expression(expr: str, factor: float) -> str:
    """`expr` with its range selectors, subquery ranges and steps and offsets divided by
    `factor`; every other character unchanged."""

    def ranged(match: re.Match[str]) -> str:
        inner = _scaled(match["range"], factor)
        if match["step"]:
            return f"[{inner}:{_scaled(match['step'], factor)}]"
        return f"[{inner}:]" if ":" in match.group(0) else f"[{inner}]"

    def offset(match: re.Match[str]) -> str:
        sign = "-" if match["d"].startswith("-") else ""
        return match["kw"] + sign + _scaled(match["d"].lstrip("-"), factor)

    return _OFFSET.sub(offset, _RANGE.sub(ranged, expr))


@dataclass(frozen=True)
class CompressedRule:
    """One alert's timings after compression (seconds): its `for:` and the longest range
    its expression reads (0 when it reads none)."""

    alert: str
    for_s: float
    range_s: float


def rule_timings(document: dict[str, Any]) -> list[CompressedRule]:
    """The alerts of a (compressed) rule document and their timings."""
    rules: list[CompressedRule] = []
    for group in document.get("groups", []):
        for rule in group.get("rules", []):
            if "alert" not in rule:
                continue
            ranges = [parse_duration(m["range"]) for m in _RANGE.finditer(str(rule["expr"]))]
            wait = parse_duration(str(rule["for"])) if rule.get("for") else 0
            rules.append(
                CompressedRule(str(rule["alert"]), wait / 1000, max(ranges, default=0) / 1000)
            )
    return rules


def compress_rules(text: str, factor: float, *, evaluation_interval: float) -> str:
    """The rule file `text` (YAML) with every duration divided by `factor`.

    Raises `CompressionError` when a compressed `for:` would be shorter than two
    evaluation intervals (Prometheus could then not tell a pending alert from a firing one
    within the `for:`): choose a smaller factor or a shorter interval."""
    if not math.isfinite(factor) or factor < 1:
        raise CompressionError(f"the compression factor must be >= 1, not {factor!r}")
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CompressionError(f"the rule file is not YAML: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("groups"), list):
        raise CompressionError("the rule file has no `groups:` list")
    for group in document["groups"]:
        if "interval" in group:
            group["interval"] = _scaled(str(group["interval"]), factor)
        for rule in group.get("rules", []):
            rule["expr"] = compress_expression(str(rule["expr"]), factor)
            if rule.get("for"):
                ms = max(1, math.floor(parse_duration(str(rule["for"])) / factor))
                if ms < 2 * evaluation_interval * 1000:
                    name = rule.get("alert") or rule.get("record")
                    raise CompressionError(
                        f"{name}: for: {rule['for']} / {factor:g} = {ms} ms is shorter than "
                        f"two evaluation intervals ({2 * evaluation_interval:g} s): use a "
                        "factor of at most "
                        f"{parse_duration(str(rule['for'])) / (2000 * evaluation_interval):g}"
                    )
                rule["for"] = format_duration(ms)
    header = (
        f"# Compressed copy for the alert drill: every duration / {factor:g} (harness.alerts)\n"
    )
    body: str = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=1000)
    return header + body
