"""Fault injection for the storage emulators: a Toxiproxy-compatible proxy plus HTTP faults.

Why built in: the Toxiproxy binary (Go) cannot be installed on this machine (no internet
beyond the package registries, and no registry ships it), yet the resilience suite must
put real network faults between crownsafe's clients and the real emulators. So this
package implements Toxiproxy's model in-process, with its toxic names, attributes and
units (latency, bandwidth, slow_close, timeout, reset_peer, slicer, limit_data;
upstream/downstream; toxicity; "down" = disable the proxy), and adds what Toxiproxy does
not have: HTTP-level faults (a service's real error status, body and Retry-After for the
first N requests, a fraction of them, or a method/path match) and per-operation request
counters.

The same API drives a real Toxiproxy server through its REST API (`ToxiproxyClient`) when
`HARNESS_TOXIPROXY_URL` is set; the built-in proxy then sits in front of it for the HTTP
faults and counters (see `open_fault_proxy`).

    with FaultProxyServer() as server:
        proxy = server.create("azurite", upstream="127.0.0.1:10000", flavor="azure")
        proxy.add_toxic("slow", "latency", attributes={"latency": 50, "jitter": 10})
        proxy.add_http_fault("busy", 503, first_n=2, retry_after=1)
        ...  # point a client at proxy.url
        proxy.stats().requests_by_operation
"""

from __future__ import annotations

from harness.faults.http import Flavor, HttpFault, classify, error_response, parse_request_head
from harness.faults.proxy import FaultProxyServer, Proxy, ProxyStats, RequestRecord, ToxicTarget
from harness.faults.toxics import TOXIC_ATTRIBUTES, Toxic, ToxicError, make_toxic
from harness.faults.toxiproxy import RemoteProxy, ToxiproxyClient, ToxiproxyError
from harness.settings import read_settings

__all__ = [
    "TOXIC_ATTRIBUTES",
    "FaultProxyServer",
    "HttpFault",
    "Proxy",
    "ProxyStats",
    "RemoteProxy",
    "RequestRecord",
    "Toxic",
    "ToxicError",
    "ToxicTarget",
    "ToxiproxyClient",
    "ToxiproxyError",
    "classify",
    "error_response",
    "make_toxic",
    "open_fault_proxy",
    "parse_request_head",
]


def open_fault_proxy(
    server: FaultProxyServer,
    name: str,
    upstream: tuple[str, int],
    *,
    flavor: Flavor = "generic",
    toxiproxy_url: str | None = None,
) -> Proxy:
    """A proxy in front of `upstream`; toxics go to a real Toxiproxy when one is configured.

    `toxiproxy_url` defaults to `$HARNESS_TOXIPROXY_URL`. With it, the chain is
    client -> built-in proxy (HTTP faults, counters) -> Toxiproxy (toxics) -> upstream.
    """
    url = toxiproxy_url if toxiproxy_url is not None else read_settings().toxiproxy_url
    target: tuple[str, int] = upstream
    remote: RemoteProxy | None = None
    if url:
        client = ToxiproxyClient(url)
        existing = client.proxies()
        if name in existing:
            client.destroy(name)
        remote = client.create(name, f"{upstream[0]}:{upstream[1]}")
        target = (remote.host, remote.port)
    return server.create(name, target, flavor=flavor, toxics_via=remote)
