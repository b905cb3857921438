"""The cut-over drill's load: `locust -f load/cutover.py` (started by harness.cutover).

The default mix (uploaders 3, sharers 2, reporters 1: new objects and new shares) plus
`LegacyReaderUser` (weight 4), which resolves the share links the S3-era app left
(`CROWNSAFE_CUTOVER_TOKENS`: a JSON file of [token, size, sha256]) and fetches each
object from the storage URL the app hands out: its bytes must match the S3 original,
whichever store served it.

Every request is also written, one JSON line each, to `CROWNSAFE_CUTOVER_RECORD`
(start time, name, ok, milliseconds, failure text): the drill cuts that timeline into
its phases. The recorder writes the failure text locust shows (status and error code
only: never a URL or token, see load.scenarios.base).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from locust import events, task  # noqa: E402

from load import hooks  # noqa: E402
from load.images import image_mix  # noqa: E402
from load.scenarios.base import CrownsafeUser  # noqa: E402
from load.scenarios.reporter import ReporterUser  # noqa: E402
from load.scenarios.sharer import SharerUser  # noqa: E402
from load.scenarios.uploader import UploaderUser  # noqa: E402

__all__ = ["LegacyReaderUser", "ReporterUser", "SharerUser", "UploaderUser", "hooks"]

LEGACY_SHARE = "/shares/[token] (legacy)"
LEGACY_OBJECT = "[storage] legacy object"


def _legacy_links() -> list[tuple[str, int, str]]:
    path = os.environ.get("CROWNSAFE_CUTOVER_TOKENS", "")
    if not path:
        return []
    return [(str(t), int(size), str(sha)) for t, size, sha in json.loads(Path(path).read_text())]


LINKS = _legacy_links()


class LegacyReaderUser(CrownsafeUser):
    weight = 4

    @task
    def read_legacy_object(self) -> None:
        if not LINKS:
            return
        token, size, sha256 = self.rng.choice(LINKS)
        resolved = self.call("GET", f"/shares/{token}", LEGACY_SHARE, 200)
        if resolved is None:
            return
        self.fetch_storage(str(resolved.get("url", "")), LEGACY_OBJECT, size, sha256)


class _Recorder:
    def __init__(self, path: str) -> None:
        self.file = open(path, "a", buffering=1, encoding="utf-8") if path else None  # noqa: SIM115

    def on_request(
        self,
        name: str,
        response_time: float,
        exception: BaseException | None = None,
        start_time: float | None = None,
        **_: Any,
    ) -> None:
        if self.file is None:
            return
        record = {
            "t": start_time if start_time is not None else time.time(),
            "name": name,
            "ok": exception is None,
            "ms": round(float(response_time), 2),
        }
        if exception is not None:
            record["error"] = str(exception)[:120]
        self.file.write(json.dumps(record) + "\n")


_recorder = _Recorder(os.environ.get("CROWNSAFE_CUTOVER_RECORD", ""))
events.request.add_listener(_recorder.on_request)  # type: ignore[no-untyped-call]

image_mix()
