"""A loopback discard sink in its own process: `python -m harness.bench.sink`.

What the forwarding floor (`harness.services.floor_app`, `/forward/...`) sends each
request body to: it listens on a free loopback port (printed as the first line of its
standard output), and on each connection reads, again and again, an 8-byte big-endian
length and that many bytes, which it drops, then answers one byte. So the floor pays to
receive every byte and to send it on over loopback TCP, as the app does to storage, and
nothing else; the sink's own CPU is in no measured process (as the emulator's is not in
the app's). It stops when its standard input closes.
"""

from __future__ import annotations

import socket
import sys
import threading

__all__ = ["main"]

_BUFFER = 1024 * 1024


def _serve(connection: socket.socket) -> None:
    buffer = bytearray(_BUFFER)
    view = memoryview(buffer)
    with connection:
        while True:
            header = b""
            while len(header) < 8:
                piece = connection.recv(8 - len(header))
                if not piece:
                    return
                header += piece
            left = int.from_bytes(header, "big")
            while left:
                count = connection.recv_into(view[: min(left, _BUFFER)])
                if not count:
                    return
                left -= count
            connection.sendall(b"k")


def main() -> int:
    listener = socket.create_server(("127.0.0.1", 0))
    print(listener.getsockname()[1], flush=True)

    def accept() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=_serve, args=(connection,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    sys.stdin.read()  # until the benchmark closes our stdin
    listener.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
