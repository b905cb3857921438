"""A target that stops answering mid-run: said once, and the rest of its tests not run.

When a test of a target fails (setup, call or teardown), the target's endpoint is probed
with one TCP connect. Refused (or no answer within `PROBE_TIMEOUT_S`) means the target is
down. A failed test body (the test that was running when it stopped) keeps its failure and
says so, and every later test of the target is skipped at setup, "not run: <target>
stopped answering (...) during <test>"; a setup that fails on a down target is not run
either, and a teardown that fails on one is a consequence, not an error of its own. The
results then show one cause instead of dozens of connection errors.

xdist workers talk to the same outside service: the first test body to see it down claims a
file (created exclusively) in a folder the controller hands every worker, so across
workers exactly one test is named, and a worker whose own test failed because of it
reports that test as not run too. Only a *shared* target (one outside service for every
worker: `--targets ...:external`) is down for everybody; an emulator each worker starts for
itself is watched per endpoint, so another worker's one stopping changes nothing here.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["PROBE_TIMEOUT_S", "Down", "Endpoint", "TargetWatch", "unanswered"]

PROBE_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Endpoint:
    """Where a target listens (host and port of its URL)."""

    host: str
    port: int

    @classmethod
    def from_url(cls, url: str) -> Endpoint | None:
        parts = urlsplit(url)
        if not parts.hostname:
            return None
        try:
            port = parts.port or {"https": 443}.get(parts.scheme, 80)
        except ValueError:
            return None
        return cls(parts.hostname, port)

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


def unanswered(endpoint: Endpoint, timeout: float = PROBE_TIMEOUT_S) -> str | None:
    """None when `endpoint` accepts a TCP connection, else what happened instead."""
    try:
        with socket.create_connection((endpoint.host, endpoint.port), timeout=timeout):
            return None
    except ConnectionRefusedError:
        return f"connection refused at {endpoint}"
    except TimeoutError:
        return f"no answer within {timeout:g} s at {endpoint}"
    except OSError as exc:
        return f"{exc.strerror or exc} at {endpoint}"


@dataclass(frozen=True)
class Down:
    """A target seen down: where, why, and the test that was running when it stopped."""

    target: str
    endpoint: str
    why: str
    during: str

    def reason(self) -> str:
        """The skip reason of the target's later tests."""
        during = f" during {self.during}" if self.during else ""
        return f"not run: {self.target} stopped answering ({self.why}){during}"

    def headline(self) -> str:
        """What the test that was running says, and the run's summary line."""
        return (
            f"{self.target} stopped answering during this test ({self.why}); "
            "its remaining tests are not run"
        )


class TargetWatch:
    """What one pytest process (controller or xdist worker) knows about its targets."""

    def __init__(
        self,
        shared_dir: Path,
        shared: Callable[[str], bool],
        probe: Callable[[Endpoint], str | None] = unanswered,
    ) -> None:
        self.shared_dir = shared_dir
        self.shared = shared
        self.probe = probe
        self.endpoints: dict[str, Endpoint] = {}
        self.down: dict[str, Down] = {}

    def saw(self, target: str, url: str) -> None:
        """A test of `target` got its services at `url` (the target_services fixture)."""
        endpoint = Endpoint.from_url(url)
        if endpoint is not None:
            self.endpoints[target] = endpoint

    def _file(self, target: str) -> Path | None:
        """Where a down target is written: per target when shared, else per endpoint (None
        while this process has not seen where its own one listens)."""
        endpoint = self.endpoints.get(target)
        if not self.shared(target) and endpoint is None:
            return None
        key = target if self.shared(target) else f"{target}@{endpoint}"
        return self.shared_dir / (key.replace(":", "_").replace("/", "_") + ".json")

    def _read(self, path: Path) -> Down | None:
        try:
            return Down(**json.loads(path.read_text("utf-8")))
        except (OSError, ValueError, TypeError):
            return None

    def known_down(self, target: str) -> Down | None:
        """Before a test: the target was seen down here or by another worker."""
        seen_here = self.down.get(target)
        if seen_here is not None and seen_here.during:
            return seen_here
        path = self._file(target)
        claimed = self._read(path) if path is not None else None
        if claimed is not None:
            self.down[target] = claimed
            return claimed
        return seen_here

    def after_failure(
        self, target: str, nodeid: str, *, claim: bool = True
    ) -> tuple[Down, bool] | None:
        """After a failed test: None if the target still answers, else (why, first), where
        `first` says this test is the one that was running when it stopped.

        Only a failed test body claims (`claim=True`). A setup or teardown that fails on a
        down target (`claim=False`) only notes it here, unnamed: under xdist it may run
        while another worker's test is the one that met the stop, and that test, failing a
        moment later, must still be the one named."""
        earlier = self.known_down(target)
        if earlier is not None and (earlier.during or not claim):
            return earlier, earlier.during == nodeid
        endpoint = self.endpoints.get(target)
        path = self._file(target)
        if endpoint is None or path is None:
            return None
        why = earlier.why if earlier is not None else self.probe(endpoint)
        if why is None:
            return None
        if not claim:
            self.down[target] = Down(target, str(endpoint), why, "")
            return self.down[target], False
        seen = Down(target, str(endpoint), why, nodeid)
        self.shared_dir.mkdir(parents=True, exist_ok=True)
        # written whole, then linked: the claim and its content appear at once
        draft = path.with_name(f"{path.name}.{os.getpid()}")
        draft.write_text(json.dumps(asdict(seen)), "utf-8")
        try:
            os.link(draft, path)
        except FileExistsError:
            seen = self._read(path) or seen
        finally:
            draft.unlink(missing_ok=True)
        self.down[target] = seen
        return seen, seen.during == nodeid
