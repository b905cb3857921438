"""Crown Safe: the storage backend (the API, its worker and the Azure Blob and S3 clients).

Nothing is re-exported here, so `import crownsafe` stays cheap: import the subpackage you
need: `storage` (the storage clients behind one interface), `api` (the FastAPI
app), `tasks` (the Celery image jobs), `db`, `objects`, `visual`, `reports`,
`resilience` (circuit breakers); the modules `config` (settings), `errors`, `redaction`
(the one secret redactor), `correlation`, `deadline`, `cli_arguments`, `cli_output` and
`sweep` (`crownsafe-sweep`).
"""

from __future__ import annotations

__all__ = [
    "api",
    "cli_arguments",
    "cli_output",
    "config",
    "correlation",
    "db",
    "deadline",
    "errors",
    "objects",
    "redaction",
    "reports",
    "resilience",
    "storage",
    "sweep",
    "tasks",
    "visual",
]
