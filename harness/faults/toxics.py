"""Toxiproxy's toxic vocabulary: types, attributes (with Toxiproxy's units) and validation.

- latency(latency ms, jitter ms): delay each chunk by latency +/- jitter
- bandwidth(rate KB/s, 1 KB = 1000 B as in Toxiproxy): limit throughput
- slow_close(delay ms): delay the close after EOF
- timeout(timeout ms): stop all data; close after timeout (0: hold until removed)
- reset_peer(timeout ms): on data, wait timeout, then reset the connection (TCP RST)
- slicer(average_size B, size_variation B, delay us): split data into small writes
- limit_data(bytes B): close the connection after that many bytes

`stream` is "upstream" (client -> server, the requests) or "downstream" (server ->
client, the responses; Toxiproxy's default). `toxicity` is the probability in [0, 1] that
a toxic applies to a given connection (drawn once per connection with the proxy's rng).
"down" is not a toxic (as in Toxiproxy): disable the proxy instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "STREAMS",
    "TOXIC_ATTRIBUTES",
    "Stream",
    "Toxic",
    "ToxicError",
    "make_toxic",
]

Stream = Literal["upstream", "downstream"]
STREAMS: tuple[Stream, ...] = ("upstream", "downstream")

TOXIC_ATTRIBUTES: dict[str, dict[str, int]] = {
    "latency": {"latency": 0, "jitter": 0},
    "bandwidth": {"rate": 0},
    "slow_close": {"delay": 0},
    "timeout": {"timeout": 0},
    "reset_peer": {"timeout": 0},
    "slicer": {"average_size": 0, "size_variation": 0, "delay": 0},
    "limit_data": {"bytes": 0},
}


class ToxicError(ValueError):
    """A toxic that Toxiproxy would refuse (unknown type/attribute, bad stream, duplicate)."""


@dataclass(frozen=True)
class Toxic:
    """One toxic as Toxiproxy's REST API describes it."""

    name: str
    type: str
    stream: Stream = "downstream"
    toxicity: float = 1.0
    attributes: Mapping[str, int] = field(default_factory=dict)

    def attr(self, key: str) -> int:
        return int(self.attributes.get(key, TOXIC_ATTRIBUTES[self.type][key]))

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "stream": self.stream,
            "toxicity": self.toxicity,
            "attributes": dict(self.attributes),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Toxic:
        return make_toxic(
            data.get("name"),
            str(data["type"]),
            data.get("stream", "downstream"),
            float(data.get("toxicity", 1.0)),
            data.get("attributes") or {},
        )


def make_toxic(
    name: str | None,
    type: str,
    stream: str = "downstream",
    toxicity: float = 1.0,
    attributes: Mapping[str, Any] | None = None,
) -> Toxic:
    """Validate and build a toxic; the name defaults to ``<type>_<stream>`` like Toxiproxy."""
    if type not in TOXIC_ATTRIBUTES:
        known = ", ".join(sorted(TOXIC_ATTRIBUTES))
        hint = " (to take a service down, call proxy.disable())" if type == "down" else ""
        raise ToxicError(f"unknown toxic type {type!r}; known: {known}{hint}")
    if stream not in STREAMS:
        raise ToxicError(f"stream must be 'upstream' or 'downstream', not {stream!r}")
    if not 0.0 <= toxicity <= 1.0:
        raise ToxicError(f"toxicity must be in [0, 1], not {toxicity!r}")
    defaults = TOXIC_ATTRIBUTES[type]
    given = dict(attributes or {})
    unknown = set(given) - set(defaults)
    if unknown:
        raise ToxicError(
            f"toxic {type!r} has no attribute(s) {sorted(unknown)}; it takes {sorted(defaults)}"
        )
    values: dict[str, int] = {}
    for key, default in defaults.items():
        raw = given.get(key, default)
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise ToxicError(f"{type}.{key} must be an integer, not {raw!r}") from None
        if value < 0:
            raise ToxicError(f"{type}.{key} must be >= 0, not {value}")
        values[key] = value
    if type == "slicer" and 0 < values["average_size"] <= values["size_variation"]:
        raise ToxicError("slicer.size_variation must be smaller than average_size")
    return Toxic(
        name=name or f"{type}_{stream}",
        type=type,
        stream=stream,
        toxicity=float(toxicity),
        attributes=values,
    )
