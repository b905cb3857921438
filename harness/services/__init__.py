"""The services a run needs, each started as a local process, a Docker container or found external.

One provider per module, all with `start() -> Self`, `stop()` and the context manager of
`base`: `azurite` (Azure Blob), `s3` (moto or LocalStack) and `localstack`, `redis`,
`postgres`, `app` (the API under uvicorn), `worker` (a Celery worker) and `stack` (an API
stack: container, database, app, worker). `provision` starts several in parallel and
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
    "provision",
    "readiness",
    "redis",
    "s3",
    "stack",
    "worker",
]
