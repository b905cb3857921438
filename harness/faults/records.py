"""What a fault proxy reports (requests, counters) and what takes toxics (`ToxicTarget`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from harness.faults.toxics import Toxic

__all__ = ["Counters", "ProxyStats", "RequestRecord", "ToxicTarget"]


@dataclass(frozen=True)
class RequestRecord:
    """One HTTP request seen by a proxy (target with signatures redacted)."""

    operation: str
    method: str
    target: str
    connection: int
    correlation_id: str | None
    fault: str | None


@dataclass(frozen=True)
class ProxyStats:
    connections_total: int
    connections_active: int
    upstream_connect_failures: int
    requests_total: int
    requests_by_operation: Mapping[str, int]
    faults_injected: Mapping[str, int]
    bytes_upstream: int
    bytes_downstream: int


@dataclass
class Counters:
    connections_total: int = 0
    connections_active: int = 0
    upstream_connect_failures: int = 0
    by_operation: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    bytes: Counter[str] = field(default_factory=Counter)
    requests: list[RequestRecord] = field(default_factory=list)


class ToxicTarget(Protocol):
    """What takes toxics: the built-in `Proxy` or a real Toxiproxy's `RemoteProxy`."""

    def add_toxic(
        self,
        name: str | None,
        type: str,
        stream: str = ...,
        toxicity: float = ...,
        attributes: Mapping[str, Any] | None = ...,
    ) -> Toxic: ...
    def update_toxic(
        self, name: str, *, toxicity: float | None = ..., attributes: Mapping[str, Any] | None = ...
    ) -> Toxic: ...
    def remove_toxic(self, name: str) -> None: ...
    def toxics(self) -> list[Toxic]: ...
    def enable(self) -> None: ...
    def disable(self) -> None: ...
    def reset(self) -> None: ...
