"""The built-in fault proxy server: Toxiproxy's API shape, in-process, on free loopback ports.

`FaultProxyServer` runs one asyncio event loop in a background thread; each `Proxy` is
one listener in front of one upstream. Every public method is called from the test's
thread and waits until the loop applied the change, so a toxic is in force when
`add_toxic` returns. Counters (connections, requests per operation, injected faults) are
kept under a lock and read with `stats()` / `requests()`.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import threading
from collections.abc import Coroutine, Iterable, Mapping
from typing import Any, Self, TypeVar

from crownsafe.redaction import redact
from harness.faults.http import Flavor, HttpFault, HttpRequestHead, classify
from harness.faults.link import Link, ToxicEntry
from harness.faults.records import Counters, ProxyStats, RequestRecord, ToxicTarget
from harness.faults.toxics import Toxic, ToxicError, make_toxic

__all__ = ["FaultProxyServer", "Proxy", "ProxyStats", "RequestRecord", "ToxicTarget"]

T = TypeVar("T")
_CORRELATION_HEADERS = ("x-ms-client-request-id", "x-crownsafe-correlation-id")


def _parse_address(address: str | tuple[str, int]) -> tuple[str, int]:
    if isinstance(address, tuple):
        return address
    host, _, port = address.rpartition(":")
    return host or "127.0.0.1", int(port)


class Proxy:
    """One listener forwarding to one upstream, with toxics and HTTP faults.

    With `toxics_via` (a real Toxiproxy's proxy, placed between this one and the
    upstream), toxics and enable/disable go to that server, while HTTP faults and the
    counters stay here: the same tests then run against either.
    """

    def __init__(
        self,
        server: FaultProxyServer,
        name: str,
        upstream: tuple[str, int],
        listen: tuple[str, int],
        flavor: Flavor,
        http_aware: bool,
        toxics_via: ToxicTarget | None = None,
    ) -> None:
        self.server = server
        self.toxics_via = toxics_via
        self.name = name
        self.upstream = upstream
        self.host, self.port = listen
        self.flavor: Flavor = flavor
        self.http_aware = http_aware
        self.enabled = False
        self.rng = server.rng
        self._lock = threading.Lock()
        self._toxics: dict[str, ToxicEntry] = {}
        self._faults: dict[str, HttpFault] = {}
        self._serials = itertools.count(1)
        self._link_ids = itertools.count(1)
        self._counters = Counters()
        self._links: set[Link] = set()
        self._listener: asyncio.Server | None = None

    @property
    def listen(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- Toxiproxy API ------------------------------------------------------------------

    def add_toxic(
        self,
        name: str | None,
        type: str,
        stream: str = "downstream",
        toxicity: float = 1.0,
        attributes: Mapping[str, Any] | None = None,
    ) -> Toxic:
        if self.toxics_via is not None:
            return self.toxics_via.add_toxic(name, type, stream, toxicity, attributes)
        toxic = make_toxic(name, type, stream, toxicity, attributes)
        with self._lock:
            if toxic.name in self._toxics:
                raise ToxicError(f"toxic {toxic.name!r} already exists on proxy {self.name!r}")
            self._toxics[toxic.name] = ToxicEntry(next(self._serials), toxic)
        self.server.run(self._toxics_changed())
        return toxic

    def update_toxic(
        self,
        name: str,
        *,
        toxicity: float | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> Toxic:
        if self.toxics_via is not None:
            return self.toxics_via.update_toxic(name, toxicity=toxicity, attributes=attributes)
        with self._lock:
            old = self._get_toxic(name)
            merged = {**old.attributes, **(attributes or {})}
            toxic = make_toxic(
                name, old.type, old.stream, old.toxicity if toxicity is None else toxicity, merged
            )
            self._toxics[name] = ToxicEntry(next(self._serials), toxic)
        self.server.run(self._toxics_changed())
        return toxic

    def remove_toxic(self, name: str) -> None:
        if self.toxics_via is not None:
            self.toxics_via.remove_toxic(name)
            return
        with self._lock:
            self._get_toxic(name)
            del self._toxics[name]
        self.server.run(self._toxics_changed())

    def toxics(self) -> list[Toxic]:
        if self.toxics_via is not None:
            return self.toxics_via.toxics()
        with self._lock:
            return [e.toxic for e in self._toxics.values()]

    def enable(self) -> None:
        if self.toxics_via is not None:
            self.toxics_via.enable()
        self.server.run(self._start_listener())

    def disable(self) -> None:
        """Toxiproxy's "down": refuse new connections and drop the open ones.

        Through a real Toxiproxy the listener here stays open: connections are accepted,
        then closed when the upstream (Toxiproxy's disabled proxy) refuses them.
        """
        if self.toxics_via is not None:
            self.toxics_via.disable()
            self.server.run(self._drop_links())
            return
        self.server.run(self._stop_listener())

    def reset(self) -> None:
        """Like Toxiproxy's /reset for this proxy: enable it, remove toxics and HTTP faults."""
        with self._lock:
            self._toxics.clear()
            self._faults.clear()
        if self.toxics_via is not None:
            self.toxics_via.reset()
        self.server.run(self._toxics_changed())
        self.server.run(self._start_listener())

    # -- HTTP faults and counters (built-in proxy only) ----------------------------------

    def add_http_fault(self, name: str, status: int = 503, **options: Any) -> HttpFault:
        """Answer matching requests with `status`; options as in `HttpFault`."""
        if not self.http_aware:
            raise ToxicError(f"proxy {self.name!r} is not HTTP-aware; create it with http=True")
        ops = options.pop("operations", None)
        fault = HttpFault(
            name,
            status,
            operations=frozenset([ops] if isinstance(ops, str) else ops) if ops else None,
            **options,
        )
        with self._lock:
            if name in self._faults:
                raise ToxicError(f"HTTP fault {name!r} already exists on proxy {self.name!r}")
            self._faults[name] = fault
        return fault

    def remove_http_fault(self, name: str) -> None:
        with self._lock:
            if self._faults.pop(name, None) is None:
                raise ToxicError(f"no HTTP fault {name!r} on proxy {self.name!r}")

    def http_faults(self) -> list[HttpFault]:
        with self._lock:
            return list(self._faults.values())

    def stats(self) -> ProxyStats:
        with self._lock:
            c = self._counters
            return ProxyStats(
                connections_total=c.connections_total,
                connections_active=c.connections_active,
                upstream_connect_failures=c.upstream_connect_failures,
                requests_total=sum(c.by_operation.values()),
                requests_by_operation=dict(c.by_operation),
                faults_injected=dict(c.faults),
                bytes_upstream=c.bytes["upstream"],
                bytes_downstream=c.bytes["downstream"],
            )

    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._counters.requests)

    def reset_counters(self) -> None:
        with self._lock:
            active = self._counters.connections_active
            self._counters = Counters(connections_active=active)

    # -- called by links on the loop ----------------------------------------------------

    def toxic_entries(self) -> list[ToxicEntry]:
        with self._lock:
            return list(self._toxics.values())

    def count_bytes(self, stream: str, n: int) -> None:
        with self._lock:
            self._counters.bytes[stream] += n

    def on_request(self, head: HttpRequestHead, link_id: int) -> HttpFault | None:
        """Count the request and decide whether a fault answers it."""
        operation = classify(head, self.flavor)
        with self._lock:
            chosen: HttpFault | None = None
            for fault in self._faults.values():
                if not fault.matches(head, operation):
                    continue
                fault.matched += 1
                if fault.first_n is not None and fault.matched > fault.first_n:
                    continue
                if fault.probability < 1.0 and self.rng.random() >= fault.probability:
                    continue
                fault.injected += 1
                chosen = fault
                break
            self._counters.by_operation[operation] += 1
            if chosen is not None:
                self._counters.faults[chosen.name] += 1
            cid = next((head.headers[h] for h in _CORRELATION_HEADERS if h in head.headers), None)
            self._counters.requests.append(
                RequestRecord(
                    operation,
                    head.method,
                    redact(head.target),
                    link_id,
                    cid,
                    chosen.name if chosen else None,
                )
            )
        return chosen

    # -- loop side ----------------------------------------------------------------------

    def _get_toxic(self, name: str) -> Toxic:
        entry = self._toxics.get(name)
        if entry is None:
            raise ToxicError(f"no toxic {name!r} on proxy {self.name!r}")
        return entry.toxic

    async def _toxics_changed(self) -> None:
        for link in list(self._links):
            link.toxics_changed()

    async def _start_listener(self) -> None:
        if self._listener is None:
            self._listener = await asyncio.start_server(
                self._accept, self.host, self.port, reuse_address=True, limit=1 << 20
            )
            self.port = self._listener.sockets[0].getsockname()[1]
        self.enabled = True

    async def _stop_listener(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        await self._drop_links()
        self.enabled = False

    async def _drop_links(self) -> None:
        for link in list(self._links):
            link.close()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with self._lock:
            self._counters.connections_total += 1
            self._counters.connections_active += 1
        try:
            try:
                upstream = await asyncio.open_connection(*self.upstream, limit=1 << 20)
            except OSError:
                with self._lock:
                    self._counters.upstream_connect_failures += 1
                writer.transport.abort()
                return
            link = Link(self, next(self._link_ids), (reader, writer), upstream)
            self._links.add(link)
            link.toxics_changed()
            try:
                await link.run()
            except asyncio.CancelledError:
                link.close()  # the server is shutting down; end this connection quietly
            finally:
                self._links.discard(link)
        finally:
            with self._lock:
                self._counters.connections_active -= 1


class FaultProxyServer:
    """An in-process Toxiproxy-compatible server (`create`, `get`, `reset`, `destroy`)."""

    def __init__(self, *, rng: random.Random | None = None, host: str = "127.0.0.1") -> None:
        self.rng = rng or random.Random(0)
        self.host = host
        self._proxies: dict[str, Proxy] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(
                target=self._loop.run_forever, name="fault-proxy", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        self.run(self._shutdown())
        self._proxies.clear()
        loop, self._loop = self._loop, None
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(5)
        loop.close()

    async def _shutdown(self) -> None:
        for proxy in list(self._proxies.values()):
            await proxy._stop_listener()
        current = asyncio.current_task()
        pending = [t for t in asyncio.all_tasks() if t is not current]
        if pending:
            _, still_running = await asyncio.wait(pending, timeout=2.0)
            for task in still_running:
                task.cancel()
            await asyncio.gather(*still_running, return_exceptions=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        """Run `coro` on the server's loop and wait for its result."""
        if self._loop is None:
            coro.close()
            raise RuntimeError("FaultProxyServer is not started; call start() first")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def version(self) -> str:
        return "crownsafe-builtin-1"

    def create(
        self,
        name: str,
        upstream: str | tuple[str, int],
        listen: str | tuple[str, int] = "127.0.0.1:0",
        enabled: bool = True,
        *,
        flavor: Flavor = "generic",
        http: bool = True,
        toxics_via: ToxicTarget | None = None,
    ) -> Proxy:
        if name in self._proxies:
            raise ToxicError(f"proxy {name!r} already exists")
        self.start()
        proxy = Proxy(
            self,
            name,
            _parse_address(upstream),
            _parse_address(listen),
            flavor,
            http,
            toxics_via,
        )
        self._proxies[name] = proxy
        if enabled:
            proxy.enable()
        return proxy

    def get(self, name: str) -> Proxy:
        return self._proxies[name]

    def proxies(self) -> dict[str, Proxy]:
        return dict(self._proxies)

    def destroy(self, name: str) -> None:
        proxy = self._proxies.pop(name)
        self.run(proxy._stop_listener())

    def reset(self, names: Iterable[str] | None = None) -> None:
        for name in names or list(self._proxies):
            self._proxies[name].reset()
