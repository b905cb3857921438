"""Visual search: your stored images nearest to one of them by perceptual hash.

The query image is named by URL in any form the product has stored: `blob://`, an
Azure blob URL or (old rows) an S3 URL. It must be one of your uploads (else 404) and
processed (else 409: its hash is not known yet).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy import select

from crownsafe.api.errors import ApiError, responses
from crownsafe.api.schemas import SearchIn, SearchMatchOut, SearchOut
from crownsafe.api.state import ApiState, get_state, in_thread
from crownsafe.api.users import CurrentUser
from crownsafe.db.models import ImageJob
from crownsafe.db.session import session_scope
from crownsafe.errors import InvalidBlobNameError
from crownsafe.storage.urls import InvalidBlobUrlError, to_blob_uri
from crownsafe.visual.search import nearest_images, resolve_image_url

__all__ = ["router"]

router = APIRouter(prefix="/visual", tags=["visual"])
State = Annotated[ApiState, Depends(get_state)]


def _search(state: ApiState, user_id: int, body: SearchIn) -> SearchOut:
    try:
        name = resolve_image_url(body.image_url)
    except (InvalidBlobUrlError, InvalidBlobNameError) as exc:
        raise ApiError(422, f"image_url: {getattr(exc, 'reason', 'not a blob URL')}") from None
    with session_scope(state.sessions) as session:
        query = session.scalars(
            select(ImageJob).where(ImageJob.user_id == user_id, ImageJob.blob_name == name)
        ).first()
        if query is None:
            raise ApiError(404, "no image of yours is stored under that URL")
        if query.status != "completed" or not query.phash:
            raise ApiError(409, f"the image is {query.status}; search once it is processed")
        rows = session.execute(
            select(ImageJob.id, ImageJob.blob_container, ImageJob.blob_name, ImageJob.phash)
            .where(
                ImageJob.user_id == user_id,
                ImageJob.status == "completed",
                ImageJob.phash.is_not(None),
                ImageJob.id != query.id,
            )
            .limit(10_000)
        ).all()
        query_hash = query.phash
    by_id = {str(r.id): r for r in rows}
    matches = nearest_images(
        query_hash,
        ((key, r.phash) for key, r in by_id.items()),
        limit=body.limit,
        max_distance=body.max_distance,
    )
    return SearchOut(
        query_phash=query_hash,
        matches=[
            SearchMatchOut(
                job_id=by_id[m.key].id,
                blob_url=to_blob_uri(by_id[m.key].blob_container, by_id[m.key].blob_name),
                phash=m.phash,
                distance=m.distance,
            )
            for m in matches
        ],
    )


@router.post("/search", response_model=SearchOut, responses=responses(400, 401, 404, 409, 422))
async def visual_search(body: SearchIn, user: CurrentUser, state: State) -> SearchOut:
    """Your processed images nearest to the given one (Hamming distance of pHashes)."""
    return await in_thread(_search, state, user, body)
