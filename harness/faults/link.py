"""One proxied TCP connection: two pumps (upstream, downstream) that apply the toxics.

Runs entirely on the fault server's event loop. The upstream pump parses HTTP/1.1 requests
when the proxy is HTTP-aware, so it can count them and answer some with a service error;
anything that does not parse as HTTP is forwarded as raw bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.faults.http import HttpFault, HttpRequestHead, error_response, parse_request_head
from harness.faults.toxics import Stream, Toxic

if TYPE_CHECKING:
    from harness.faults.proxy import Proxy

__all__ = ["Link", "ToxicEntry"]

READ_SIZE = 64 * 1024
_PUMP_ERRORS = (ConnectionError, OSError, asyncio.IncompleteReadError)
Emit = Callable[[bytes], Awaitable[None]]


@dataclass(frozen=True)
class ToxicEntry:
    """A toxic as installed on a proxy; `serial` tells a re-added toxic from the old one."""

    serial: int
    toxic: Toxic


class _Closed(Exception):
    """The link was closed by a toxic or by the proxy."""


class Link:
    def __init__(
        self,
        proxy: Proxy,
        link_id: int,
        client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    ) -> None:
        self.proxy = proxy
        self.id = link_id
        self.client_reader, self.client_writer = client
        self.up_reader, self.up_writer = upstream
        self.closed = False
        self._applies: dict[int, bool] = {}
        self._limit_used: dict[int, int] = {}
        self._timers: dict[int, asyncio.TimerHandle] = {}
        self._changed = asyncio.Event()

    # -- lifecycle ----------------------------------------------------------------------

    async def run(self) -> None:
        up = asyncio.create_task(self._pump_upstream())
        down = asyncio.create_task(self._pump_raw("downstream", self.up_reader, self.client_writer))
        try:
            await asyncio.wait({up, down}, return_when=asyncio.FIRST_EXCEPTION)
        finally:
            for task in (up, down):
                task.cancel()
            await asyncio.gather(up, down, return_exceptions=True)
            self.close()

    def close(self, reset: Stream | None = None) -> None:
        """Close both sides; `reset` sends a TCP RST on that side (SO_LINGER 0)."""
        if self.closed:
            return
        self.closed = True
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        for stream, writer in (("downstream", self.client_writer), ("upstream", self.up_writer)):
            if reset == stream:
                sock = writer.get_extra_info("socket")
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.setsockopt(
                            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                        )
                writer.transport.abort()
            else:
                writer.close()
        self.toxics_changed()

    def toxics_changed(self) -> None:
        """Re-arm timers for the current toxics and wake pumps held by a timeout toxic."""
        if not self.closed:
            current = {e.serial: e for e in self.proxy.toxic_entries()}
            for serial in list(self._timers):
                if serial not in current:
                    self._timers.pop(serial).cancel()
            for entry in current.values():
                toxic = entry.toxic
                timeout = toxic.attr("timeout") if toxic.type == "timeout" else 0
                if timeout > 0 and entry.serial not in self._timers and self._applies_to(entry):
                    self._timers[entry.serial] = asyncio.get_running_loop().call_later(
                        timeout / 1000.0, self.close
                    )
        self._changed.set()
        self._changed = asyncio.Event()

    # -- toxics -------------------------------------------------------------------------

    def _applies_to(self, entry: ToxicEntry) -> bool:
        if entry.serial not in self._applies:
            tox = entry.toxic.toxicity
            self._applies[entry.serial] = tox >= 1.0 or self.proxy.rng.random() < tox
        return self._applies[entry.serial]

    def _active(self, stream: Stream) -> list[ToxicEntry]:
        return [
            e
            for e in self.proxy.toxic_entries()
            if e.toxic.stream == stream and self._applies_to(e)
        ]

    async def _send(
        self,
        stream: Stream,
        data: bytes,
        writer: asyncio.StreamWriter,
        arrived: float | None = None,
    ) -> None:
        loop = asyncio.get_running_loop()
        arrived = loop.time() if arrived is None else arrived
        while True:
            if self.closed:
                raise _Closed
            active = self._active(stream)
            if not any(e.toxic.type == "timeout" for e in active):
                break
            await self._changed.wait()
        rng = self.proxy.rng
        close_after = False
        for entry in active:
            toxic = entry.toxic
            if toxic.type == "latency":
                jitter = toxic.attr("jitter")
                delay = toxic.attr("latency") + (rng.uniform(-jitter, jitter) if jitter else 0)
                await asyncio.sleep(max(0.0, arrived + delay / 1000.0 - loop.time()))
            elif toxic.type == "reset_peer":
                await asyncio.sleep(toxic.attr("timeout") / 1000.0)
                self.close(reset=stream)
                raise _Closed
            elif toxic.type == "limit_data":
                used = self._limit_used.get(entry.serial, 0)
                allowed = max(0, toxic.attr("bytes") - used)
                if len(data) >= allowed:
                    data, close_after = data[:allowed], True
                self._limit_used[entry.serial] = used + len(data)
        pieces = [data]
        slice_delay = 0.0
        for entry in active:
            toxic = entry.toxic
            if toxic.type == "slicer" and toxic.attr("average_size") > 0:
                pieces = [p for piece in pieces for p in self._slice(piece, toxic)]
                slice_delay = toxic.attr("delay") / 1_000_000.0
            elif toxic.type == "bandwidth" and toxic.attr("rate") > 0:
                step = toxic.attr("rate") * 100
                pieces = [p[i : i + step] for p in pieces for i in range(0, len(p), step)]
        rate = max((e.toxic.attr("rate") for e in active if e.toxic.type == "bandwidth"), default=0)
        for index, piece in enumerate(pieces):
            if rate > 0:
                await asyncio.sleep(len(piece) / (rate * 1000.0))
            elif index and slice_delay:
                await asyncio.sleep(slice_delay)
            if self.closed:
                raise _Closed
            writer.write(piece)
            await writer.drain()
            self.proxy.count_bytes(stream, len(piece))
        if close_after:
            self.close()
            raise _Closed

    def _slice(self, data: bytes, toxic: Toxic) -> list[bytes]:
        average, variation = toxic.attr("average_size"), toxic.attr("size_variation")
        out: list[bytes] = []
        while data:
            size = max(1, average + self.proxy.rng.randint(-variation, variation))
            out.append(data[:size])
            data = data[size:]
        return out

    async def _eof(self, stream: Stream, writer: asyncio.StreamWriter) -> None:
        delays = [
            e.toxic.attr("delay") for e in self._active(stream) if e.toxic.type == "slow_close"
        ]
        if delays:
            await asyncio.sleep(max(delays) / 1000.0)
        if not self.closed and writer.can_write_eof() and not writer.transport.is_closing():
            with contextlib.suppress(OSError):
                writer.write_eof()

    # -- pumps --------------------------------------------------------------------------

    async def _pump_raw(
        self, stream: Stream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Forward chunks; a separate reader stamps arrival times so latency is pipelined."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes | None]] = asyncio.Queue(maxsize=16)

        async def read() -> None:
            try:
                while True:
                    data = await reader.read(READ_SIZE)
                    await queue.put((loop.time(), data))
                    if not data:
                        return
            except _PUMP_ERRORS:
                await queue.put((loop.time(), None))

        reading = asyncio.create_task(read())
        try:
            while True:
                arrived, data = await queue.get()
                if data is None:
                    raise ConnectionResetError
                if not data:
                    await self._eof(stream, writer)
                    return
                await self._send(stream, data, writer, arrived)
        except (_Closed, *_PUMP_ERRORS):
            self.close()
        finally:
            reading.cancel()
            await asyncio.gather(reading, return_exceptions=True)

    async def _pump_upstream(self) -> None:
        if not self.proxy.http_aware:
            await self._pump_raw("upstream", self.client_reader, self.up_writer)
            return
        reader, send = self.client_reader, self._sender("upstream", self.up_writer)
        try:
            while True:
                try:
                    raw = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError as exc:
                    if exc.partial:
                        await send(exc.partial)
                    await self._eof("upstream", self.up_writer)
                    return
                except asyncio.LimitOverrunError:
                    break
                head = parse_request_head(raw)
                if head is None:
                    await send(raw)
                    break
                fault = self.proxy.on_request(head, self.id)
                if fault is not None:
                    if not await self._answer(head, fault):
                        return
                    continue
                await send(raw)
                await self._forward_body(head, send)
        except (_Closed, *_PUMP_ERRORS):
            self.close()
            return
        await self._pump_raw("upstream", reader, self.up_writer)

    def _sender(self, stream: Stream, writer: asyncio.StreamWriter) -> Emit:
        async def send(data: bytes) -> None:
            await self._send(stream, data, writer)

        return send

    async def _answer(self, head: HttpRequestHead, fault: HttpFault) -> bool:
        """Reply with the fault's error; return whether the connection stays open."""
        keep = not (head.wants_close or fault.close_connection or head.expects_continue)
        if not head.expects_continue:
            await self._forward_body(head, None)
        response = error_response(fault, head, self.proxy.flavor, keep_alive=keep)
        self.client_writer.write(response)
        await self.client_writer.drain()
        if not keep:
            self.close()
        return keep

    async def _forward_body(self, head: HttpRequestHead, send: Emit | None) -> None:
        """Forward (or with `send=None` discard) the request body framed by the head."""
        reader = self.client_reader

        async def emit(data: bytes) -> None:
            if send is not None:
                await send(data)

        if head.chunked:
            while True:
                line = await reader.readuntil(b"\r\n")
                await emit(line)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while True:
                        trailer = await reader.readuntil(b"\r\n")
                        await emit(trailer)
                        if trailer == b"\r\n":
                            return
                await self._copy(size + 2, emit)
            return
        length = head.content_length or 0
        await self._copy(length, emit)

    async def _copy(self, length: int, emit: Emit) -> None:
        remaining = length
        while remaining > 0:
            data = await self.client_reader.read(min(READ_SIZE, remaining))
            if not data:
                raise asyncio.IncompleteReadError(b"", remaining)
            remaining -= len(data)
            await emit(data)
