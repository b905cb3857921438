"""Health: `/health` (the API's own dependencies) and the original backend's
`/health/azure-storage`.

`/health` checks PostgreSQL and Redis, which every request path needs. The storage
account is checked by `/health/azure-storage` (the original backend's `list_blobs(max_results=1)`,
for whichever backend is configured, and the storage circuit breaker's state) so that a
storage outage, which uploads already answer with 503 + Retry-After, does not make an
orchestrator restart healthy API
processes. A failing part is named; the body never holds an exception text or a secret.

`/health` answers from a check at most `HEALTH_TTL_S` (1 s, `crownsafe.api.health_cache`)
old, and concurrent requests share one check (`HealthCache`): an orchestrator or a load
balancer polling it many times a second then costs two thread hops a second, not two per
request, and its latency is the event loop's, which is what it should show. A state
change is visible within 1 s.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from sqlalchemy import text

from crownsafe.api.schemas import HealthOut
from crownsafe.api.state import ApiState, get_state, in_thread
from crownsafe.errors import StorageError
from crownsafe.redaction import redact
from crownsafe.resilience import CircuitBreaker, CircuitState

__all__ = ["router"]

log = logging.getLogger("crownsafe.api.health")
router = APIRouter(tags=["health"])
CHECK_TIMEOUT_S = 5.0
_HEALTH_RESPONSES: dict[int | str, dict[str, object]] = {
    503: {"model": HealthOut, "description": "A part is failing (named in `failing`)"}
}


async def _check(name: str, probe: Callable[[], object]) -> str:
    try:
        with anyio.fail_after(CHECK_TIMEOUT_S):
            await in_thread(probe)
    except TimeoutError:
        return "timeout"
    except StorageError as exc:
        log.warning("health: %s failed: %s", name, redact(str(exc)))
        return type(exc).__name__.removesuffix("Error").lower() or "error"
    except Exception as exc:
        log.warning("health: %s failed: %s: %s", name, type(exc).__name__, redact(str(exc)))
        return "unreachable"
    return "ok"


def _answer(service: str, checks: dict[str, str]) -> JSONResponse:
    failing = [name for name, result in checks.items() if not result.startswith("ok")]
    body = HealthOut(
        status="unhealthy" if failing else "healthy",
        service=service,
        checks=checks,
        failing=failing,
    )
    return JSONResponse(body.model_dump(), status_code=503 if failing else 200)


def _database(state: ApiState) -> Callable[[], None]:
    def probe() -> None:
        with state.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    return probe


async def _dependencies(state: ApiState) -> dict[str, str]:
    checks: dict[str, str] = {}

    async def run(name: str, probe: Callable[[], object]) -> None:
        checks[name] = await _check(name, probe)

    async with anyio.create_task_group() as group:
        group.start_soon(run, "database", _database(state))
        group.start_soon(run, "redis", state.redis_ping)
    return dict(sorted(checks.items()))


@router.get("/health", response_model=HealthOut, responses=_HEALTH_RESPONSES)
async def health(state: Annotated[ApiState, Depends(get_state)]) -> JSONResponse:
    """The API, its database and Redis (no authentication; results at most 1 s old)."""
    checks = await state.health_cache.get(lambda: _dependencies(state))
    return _answer("crownsafe-api", {"api": "ok", **checks})


def _breaker_check(storage: object) -> dict[str, str]:
    """The storage client's circuit breaker: "ok" when closed, else its state. An open
    breaker refuses every storage call (uploads, shares answer 503), so it is failing even
    when the account itself answers again; half-open lets trial calls through."""
    breaker = getattr(storage, "breaker", None)
    if not isinstance(breaker, CircuitBreaker):
        return {}
    state = breaker.state
    if state is CircuitState.CLOSED:
        return {"circuit_breaker": "ok"}
    if state is CircuitState.HALF_OPEN:
        return {"circuit_breaker": "ok (half-open: trial calls pass)"}
    return {"circuit_breaker": "open: storage calls are refused"}


@router.get("/health/azure-storage", response_model=HealthOut, responses=_HEALTH_RESPONSES)
async def storage_health(state: Annotated[ApiState, Depends(get_state)]) -> JSONResponse:
    """The storage account: one `list_blobs(max_results=1)`, no retries (no authentication),
    and the state of the storage circuit breaker (open: not healthy)."""
    service = "azure_blob_storage" if state.storage.backend == "azure" else "s3"

    def probe() -> None:
        state.health_storage.list_blobs(max_results=1)

    checks = {"storage": await _check("storage", probe), **_breaker_check(state.storage)}
    return _answer(service, checks)
