"""A latency prober in its own process: `python -m harness.bench.probe URL`.

GETs URL in a loop (one keep-alive connection) until its standard input closes, then
prints the latencies in seconds as one JSON list and exits 0 (1 if any answer was not
200). It runs as a separate process so that the prober's timings are not stretched by
the benchmark client's own threads holding its GIL (16 upload threads in one process
made a cached /health look 10x slower than the app answered it).
"""

from __future__ import annotations

import json
import sys
import threading
import time

import httpx

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m harness.bench.probe URL", file=sys.stderr)
        return 2
    stop = threading.Event()

    def wait_for_eof() -> None:
        sys.stdin.read()
        stop.set()

    threading.Thread(target=wait_for_eof, daemon=True).start()
    latencies: list[float] = []
    failed = 0
    with httpx.Client(timeout=30.0, trust_env=False) as client:
        print("ready", flush=True)
        while not stop.is_set():
            began = time.perf_counter()
            status = client.get(args[0]).status_code
            latencies.append(time.perf_counter() - began)
            failed += status != 200
    print(json.dumps(latencies), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
