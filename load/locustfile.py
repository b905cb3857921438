"""Crown Safe's load suite: `locust -f load/locustfile.py` (see load/README.md).

Four scenario families, weighted to a default mix: readers 4, uploaders 3, sharers 2,
reporters 1. `--crownsafe-*` arguments, the step shape, the SLO gates and the summary
come from `load.hooks`.
"""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from load import hooks  # noqa: E402  (registers the arguments and event listeners)
from load.images import image_mix  # noqa: E402
from load.scenarios.reader import ReaderUser  # noqa: E402
from load.scenarios.reporter import ReporterUser  # noqa: E402
from load.scenarios.sharer import SharerUser  # noqa: E402
from load.scenarios.uploader import UploaderUser  # noqa: E402

__all__ = ["ReaderUser", "ReporterUser", "SharerUser", "UploaderUser", "hooks"]

# Make the upload images now, at import: before `--processes` forks and before a worker
# connects to its master. Generating the photos takes a second or more of CPU; inside
# the test it would stall the gevent loop (inflating every response time in flight) and
# a worker busy with it misses its heartbeats and is dropped by the master.
image_mix()
