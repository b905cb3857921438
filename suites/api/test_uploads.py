"""Visual uploads end to end: stream in, job runs in the worker, thumbnail in storage."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from harness.fixtures.api import ApiStack

from .helpers import assert_error, fetch, image, upload, wait_for_job


@pytest.mark.parametrize(
    "name,content_type,size",
    [("small.jpg", "image/jpeg", (64, 48)), ("small.png", "image/png", (64, 48)),
     ("small.webp", "image/webp", (64, 48)), ("medium.jpg", "image/jpeg", (1024, 768))],
)  # fmt: skip
def test_upload_completes_with_thumbnail(
    api_stack: ApiStack, name: str, content_type: str, size: tuple[int, int]
) -> None:
    """An accepted image is stored under a generated name, processed, and thumbnailed."""
    client = api_stack.client(user_id=201)
    data = image(name)
    response = upload(client, data, filename=f"../../etc/{name}", content_type="text/plain")
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["content_type"] == content_type
    assert body["size_bytes"] == len(data)
    blob_name = body["blob_url"].split("/", 3)[3]
    assert blob_name.startswith("uploads/201/") and "etc" not in blob_name
    assert api_stack.storage.download_blob(blob_name) == data
    job = wait_for_job(client, body["job_id"])
    assert job["status"] == "completed", job
    assert (job["width"], job["height"]) == size
    assert len(job["phash"]) == 16
    thumbnail = fetch(job["thumbnail_url"])
    assert thumbnail.status_code == 200
    picture = Image.open(io.BytesIO(thumbnail.content))
    assert picture.format == "JPEG" and max(picture.size) <= 256
    assert dict(picture.getexif()) == {}, "metadata must be stripped from thumbnails"
    assert api_stack.storage.head_object(f"thumbnails/{body['job_id']}.jpg").size == len(
        thumbnail.content
    )


@pytest.mark.parametrize(
    "name,reason",
    [("truncated.jpg", "truncated"), ("bomb.png", "pixels")],
)
def test_malformed_image_fails_with_reason(api_stack: ApiStack, name: str, reason: str) -> None:
    """A damaged or bomb image passes the magic check but its job fails, saying why."""
    client = api_stack.client(user_id=202)
    response = upload(client, image(name))
    assert response.status_code == 202, response.text
    job = wait_for_job(client, response.json()["job_id"])
    assert job["status"] == "failed"
    assert reason in job["error"]
    assert job["thumbnail_url"] is None
    assert not api_stack.storage.blob_exists(f"thumbnails/{response.json()['job_id']}.jpg")


@pytest.mark.parametrize("name", ["wrong_magic.jpg", "gif.gif"])
def test_type_is_decided_by_the_bytes(api_stack: ApiStack, name: str) -> None:
    """Name and Content-Type say JPEG, the bytes do not: 415, and nothing is stored."""
    client = api_stack.client(user_id=203)
    before = {b.name for b in api_stack.storage.list_blobs(prefix="uploads/203/")}
    response = upload(client, image(name), filename="holiday.jpg", content_type="image/jpeg")
    assert_error(response, 415, "unsupported_media_type")
    assert {b.name for b in api_stack.storage.list_blobs(prefix="uploads/203/")} == before


def test_neither_multipart_nor_raw_is_415(api_stack: ApiStack) -> None:
    """A body of another media type (raw uploads: suites/api/test_raw_uploads.py) is 415."""
    client = api_stack.client(user_id=204)
    response = client.post(
        "/uploads", content=image("small.jpg"), headers={"Content-Type": "text/plain"}
    )
    assert_error(response, 415)


def test_form_without_file_part_is_422(api_stack: ApiStack) -> None:
    client = api_stack.client(user_id=204)
    response = client.post(
        "/uploads", files={"picture": ("a.jpg", image("small.jpg"), "image/jpeg")}
    )
    assert_error(response, 422)


def test_another_users_upload_is_404(api_stack: ApiStack) -> None:
    owner, other = api_stack.client(user_id=205), api_stack.client(user_id=206)
    job_id = upload(owner, image("small.png")).json()["job_id"]
    assert_error(other.get(f"/uploads/{job_id}"), 404)
    assert_error(other.delete(f"/uploads/{job_id}"), 404)
    assert owner.get(f"/uploads/{job_id}").status_code == 200


def test_delete_upload_removes_blobs(api_stack: ApiStack) -> None:
    """Deleting an upload removes its row, its image and its thumbnail."""
    client = api_stack.client(user_id=207)
    body = upload(client, image("small.png")).json()
    wait_for_job(client, body["job_id"])
    blob_name = body["blob_url"].split("/", 3)[3]
    assert client.delete(f"/uploads/{body['job_id']}").status_code == 204
    assert_error(client.get(f"/uploads/{body['job_id']}"), 404)
    assert not api_stack.storage.blob_exists(blob_name)
    assert not api_stack.storage.blob_exists(f"thumbnails/{body['job_id']}.jpg")
