"""The locust side of the load suite: scenarios, SLOs, step shape, knee (see README.md).

The modules `slo_file`, `evaluate`, `histogram`, `steps` and `summary` are plain Python
(no locust import: importing locust monkey-patches the process with gevent); `shape`,
`hooks`, `recorder` and `scenarios` run inside locust; `images` is the upload size mix.
Nothing is imported here, so `import load` never imports locust.
"""

from __future__ import annotations

__all__ = [
    "evaluate",
    "histogram",
    "hooks",
    "images",
    "recorder",
    "scenarios",
    "shape",
    "slo_file",
    "steps",
    "summary",
]
