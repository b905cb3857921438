"""The connection pool settings every storage client takes: `max_connections` and
`connect_timeout` (STORAGE_MAX_CONNECTIONS, STORAGE_CONNECT_TIMEOUT_SECONDS).

One rule for the Azure and S3 clients (and any later client), SDK-free, checked here so a
bad value is a `StorageConfigError` naming the keyword and the variable before any SDK
object is built:

- `max_connections`: the keyword, else STORAGE_MAX_CONNECTIONS; never below the client's
  `max_concurrency` (the parts or blocks one upload sends at once, each on a connection).
- `connect_timeout`: the keyword, else the client's `timeout` (its per-request timeout,
  which used to cover connecting too, so a caller passing only `timeout` keeps what it
  had). The factory passes STORAGE_CONNECT_TIMEOUT_SECONDS and STORAGE_TIMEOUT_SECONDS.
What the two SDKs do with them: Azure's requests transport sizes its per-host pool
(`pool_maxsize`) and takes the connect timeout per request; botocore takes
`max_pool_connections` and `connect_timeout` in its `Config`. In both, callers beyond
the pool are not blocked: an extra connection is opened for the request and closed after.
The default pool size is the one the pool benchmark chose (docs/storage-performance.md,
"Connection pool").
"""

from __future__ import annotations

import math

from crownsafe.config import MAX_CONNECTIONS_RANGE, Settings
from crownsafe.errors import StorageConfigError

__all__ = ["pool_options"]


def pool_options(
    connect_timeout: float | None,
    max_connections: int | None,
    settings: Settings,
    *,
    timeout: float,
    max_concurrency: int = 1,
) -> tuple[float, int]:
    """(connect timeout in seconds, pool size) of a client (see the module docstring)."""
    timeout = timeout if connect_timeout is None else connect_timeout
    size = settings.storage_max_connections if max_connections is None else max_connections
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise StorageConfigError(
            f"connect_timeout={timeout!r} is not a number of seconds",
            hint="pass connect_timeout as seconds (a float > 0), or set "
            "STORAGE_CONNECT_TIMEOUT_SECONDS",
        )
    if not (math.isfinite(timeout) and timeout > 0):
        raise StorageConfigError(
            f"connect_timeout={timeout!r} is out of range",
            hint="pass connect_timeout (or set STORAGE_CONNECT_TIMEOUT_SECONDS) to a number of "
            "seconds greater than 0",
        )
    low, high = MAX_CONNECTIONS_RANGE
    if isinstance(size, bool) or not isinstance(size, int) or not low <= size <= high:
        raise StorageConfigError(
            f"max_connections={size!r} is out of range: allowed {low}..{high}",
            hint=f"pass max_connections (or set STORAGE_MAX_CONNECTIONS) to a whole number from "
            f"{low} to {high}",
        )
    return float(timeout), max(size, max_concurrency)
