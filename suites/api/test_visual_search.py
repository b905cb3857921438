"""Visual search by perceptual hash, with the query named in every stored URL form."""

from __future__ import annotations

from typing import Any

import pytest

from harness.fixtures.api import ApiStack

from .helpers import assert_error, image, upload, wait_for_job


def _stored(client: Any, name: str) -> dict[str, Any]:
    body: dict[str, Any] = upload(client, image(name)).json()
    job = wait_for_job(client, body["job_id"])
    assert job["status"] == "completed", job
    return body


def _forms(blob_url: str) -> dict[str, str]:
    container, name = blob_url.removeprefix("blob://").split("/", 1)
    return {
        "blob": blob_url,
        "azure": f"https://crownsafeprod.blob.core.windows.net/{container}/{name}",
        "s3": f"https://{container}.s3.eu-west-1.amazonaws.com/{name}",
    }


@pytest.mark.parametrize("form", ["blob", "azure", "s3"])
def test_nearest_images_by_phash(api_stack: ApiStack, form: str) -> None:
    """The re-encoded variant is nearer than a different picture, in each URL form."""
    user = {"blob": 501, "azure": 502, "s3": 503}[form]
    client = api_stack.client(user_id=user)
    query = _stored(client, "pattern_a.png")
    variant = _stored(client, "pattern_a_variant.jpg")
    other = _stored(client, "pattern_b.png")
    response = client.post(
        "/visual/search", json={"image_url": _forms(query["blob_url"])[form], "limit": 5}
    )
    assert response.status_code == 200, response.text
    matches = response.json()["matches"]
    assert [m["job_id"] for m in matches] == [variant["job_id"], other["job_id"]]
    assert matches[0]["distance"] < matches[1]["distance"]


def test_search_errors(api_stack: ApiStack) -> None:
    """Not a blob URL: 422; someone else's image: 404."""
    owner, other = api_stack.client(user_id=504), api_stack.client(user_id=505)
    mine = _stored(owner, "small.png")
    assert_error(other.post("/visual/search", json={"image_url": mine["blob_url"]}), 404)
    bad = owner.post("/visual/search", json={"image_url": "https://example.com/cat.jpg"})
    assert_error(bad, 422)
