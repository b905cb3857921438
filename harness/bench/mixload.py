"""A steady mix of API requests from its own process: `python -m harness.bench.mixload URL`.

The load beside which `benchmarks/test_bench_scrape.py` times `GET /metrics`. It runs in a
process of its own (like `harness.bench.probe`) so that its threads never hold the GIL of
the process that times the scrapes. The bearer token is read from the environment
(`MIXLOAD_TOKEN`), never from the command line, where `ps` would show it.

Setup, as the token's user: one scan and a share link of it, and one upload whose job the
status requests read. Then each kind of request runs in its own thread, on its own
keep-alive connection, at its own rate (`--rates upload=2,share=8,health=8,job=8`, per
second): a small JPEG upload (`POST /uploads`, raw body), a share resolution
(`GET /shares/{token}`), `GET /health` and a job status (`GET /uploads/{job_id}`). The
pace is open-loop: a request starts at its tick; a request that outlasts its period
delays only its own kind, and the ticks it missed are counted as late, never sent in a
burst. It prints `ready` once set up, runs until its standard input closes, then prints
one JSON object: per kind, the requests completed and failed and the ticks late, and the
seconds it ran. Exit status 0, or 1 when a request failed (2: usage).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from harness.settings import process_environment

__all__ = ["DEFAULT_RATES", "KINDS", "KindCounts", "main", "paced", "parse_rates"]

KINDS = ("upload", "share", "health", "job")
DEFAULT_RATES = {"upload": 2.0, "share": 8.0, "health": 8.0, "job": 8.0}
TOKEN_ENV = "MIXLOAD_TOKEN"
IMAGE = Path(__file__).resolve().parents[2] / "fixtures" / "images" / "small.jpg"


@dataclass
class KindCounts:
    requests: int = 0
    failed: int = 0
    late: int = 0


def parse_rates(text: str) -> dict[str, float]:
    """`upload=2,share=8` -> {"upload": 2.0, "share": 8.0}; kinds not named do not run."""
    rates: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        kind, _, value = part.partition("=")
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r} (known: {', '.join(KINDS)})")
        rate = float(value)
        if not rate > 0:
            raise ValueError(f"{kind}: the rate must be above 0 per second, got {value!r}")
        rates[kind] = rate
    return rates


def paced(
    call: Callable[[], bool],
    rate: float,
    stop: threading.Event,
    counts: KindCounts,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Call `call` every 1/`rate` seconds until `stop` is set; count its outcomes (`call`
    returns False for a failed request) and the ticks that passed while it ran."""
    period = 1.0 / rate
    due = clock()
    while not stop.is_set():
        wait = due - clock()
        if wait > 0 and stop.wait(wait):
            return
        counts.failed += not call()
        counts.requests += 1
        due += period
        behind = int((clock() - due) // period)
        if behind > 0:
            counts.late += behind
            due += behind * period


def _set_up(client: httpx.Client, image: bytes) -> tuple[str, str]:
    """(share token, job id) of the user: a scan with a share link, and one upload."""
    scan = client.post("/scans", json={"product_name": "scrape bench", "risk_score": 10})
    scan.raise_for_status()
    share = client.post(f"/scans/{scan.json()['id']}/shares", json={"format": "json"})
    share.raise_for_status()
    upload = client.post("/uploads", content=image, headers={"Content-Type": "image/jpeg"})
    upload.raise_for_status()
    return str(share.json()["token"]), str(upload.json()["job_id"])


def _requests(
    client: httpx.Client, image: bytes, share: str, job: str
) -> dict[str, Callable[[], bool]]:
    def upload() -> bool:
        answer = client.post("/uploads", content=image, headers={"Content-Type": "image/jpeg"})
        return answer.status_code == 202

    return {
        "upload": upload,
        "share": lambda: client.get(f"/shares/{share}").status_code == 200,
        "health": lambda: client.get("/health").status_code == 200,
        "job": lambda: client.get(f"/uploads/{job}").status_code == 200,
    }


def _run(url: str, token: str, rates: dict[str, float]) -> int:
    image = IMAGE.read_bytes()
    headers = {"Authorization": f"Bearer {token}"}

    def connect() -> httpx.Client:
        return httpx.Client(base_url=url, headers=headers, timeout=30.0, trust_env=False)

    with connect() as setup:
        share, job = _set_up(setup, image)
    stop = threading.Event()
    counts = {kind: KindCounts() for kind in rates}
    clients = {kind: connect() for kind in rates}
    threads = []
    for kind, rate in rates.items():
        call = _requests(clients[kind], image, share, job)[kind]

        def guarded(call: Callable[[], bool] = call) -> bool:
            try:
                return call()
            except httpx.HTTPError:
                return False

        thread = threading.Thread(
            target=paced, args=(guarded, rate, stop, counts[kind]), name=f"mixload-{kind}"
        )
        threads.append(thread)
    print("ready", flush=True)
    began = time.monotonic()
    for thread in threads:
        thread.start()
    sys.stdin.read()
    stop.set()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - began
    for client in clients.values():
        client.close()
    summary = {"seconds": round(seconds, 3), "kinds": {k: asdict(c) for k, c in counts.items()}}
    print(json.dumps(summary), flush=True)
    return 1 if any(c.failed for c in counts.values()) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.bench.mixload", description=__doc__)
    parser.add_argument("url", help="the app's base URL")
    parser.add_argument(
        "--rates",
        default=",".join(f"{k}={v:g}" for k, v in DEFAULT_RATES.items()),
        help="requests per second per kind (default %(default)s)",
    )
    args = parser.parse_args(argv)
    token = process_environment().get(TOKEN_ENV, "")
    try:
        rates = parse_rates(args.rates)
    except ValueError as exc:
        parser.error(str(exc))
    if not token or not rates:
        parser.error(f"set {TOKEN_ENV} to a bearer token, and name at least one rate")
    return _run(args.url.rstrip("/"), token, rates)


if __name__ == "__main__":
    raise SystemExit(main())
