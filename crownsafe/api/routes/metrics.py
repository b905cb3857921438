"""`/metrics`: the Prometheus exposition (authenticated like every route but health)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from crownsafe.api.errors import responses
from crownsafe.api.state import ApiState, get_state, in_thread
from crownsafe.api.users import CurrentUser

__all__ = ["router"]

router = APIRouter(tags=["metrics"])
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/plain": {}}, "description": "Prometheus text format"},
    **responses(401),
}


@router.get(
    "/metrics",
    response_class=Response,
    responses=_RESPONSES,
)
async def metrics(user: CurrentUser, state: Annotated[ApiState, Depends(get_state)]) -> Response:
    body = await in_thread(state.metrics.exposition)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
