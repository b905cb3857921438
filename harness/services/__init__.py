"""The services a run needs, each started as a local process, a Docker container or found external.

One provider per module, all with `start() -> Self`, `stop()` and the context manager of
`base`: `azurite` (Azure Blob), `s3` (moto or LocalStack) and `localstack`,
`s3_limited` (moto behind a proxy that behaves like a limited S3-compatible service), `redis`,
`postgres`, `app` (the API under uvicorn), `worker` (a Celery worker), `prometheus` (a
Prometheus server for the outage drill) and `stack` (an API stack: container, database,
app, worker). `provision` starts several in parallel and
times them; `readiness` holds the polling they share. Nothing is imported here, so the
package stays cheap to import.
"""

from __future__ import annotations

__all__ = [
    "app",
    "azurite",
    "base",
    "localstack",
    "postgres",
    "prometheus",
    "provision",
    "readiness",
    "redis",
    "s3",
    "s3_limited",
    "stack",
    "worker",
]
