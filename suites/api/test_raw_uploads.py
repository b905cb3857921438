"""Raw-body uploads: `POST /uploads` with the image as the body and a Content-Length.

The happy path mirrors the multipart test (stored, processed, thumbnailed); the refusals:
411 without a Content-Length, 413 by the declared length before the body is read, 415
when the bytes are not an image whatever the header says, and a body shorter than
declared (the client went away) stores nothing: no row, no blob.
"""

from __future__ import annotations

import io
import socket
from urllib.parse import urlsplit

import pytest
from PIL import Image
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, func, pool, select

from crownsafe.db.models import ImageJob
from harness.fixtures.api import ApiStack

from .helpers import (
    NotYet,
    assert_error,
    fetch,
    image,
    large_jpeg,
    poll,
    read_response,
    wait_for_job,
)

MB = 1024 * 1024


def _post_raw(stack: ApiStack, user: int, data: bytes, content_type: str) -> dict[str, object]:
    client = stack.client(user_id=user)
    response = client.post("/uploads", content=data, headers={"Content-Type": content_type})
    assert response.status_code == 202, response.text
    body: dict[str, object] = response.json()
    return body


def _rows(stack: ApiStack, user: int) -> int:
    engine = create_engine(stack.database_url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            query = select(func.count()).select_from(ImageJob).where(ImageJob.user_id == user)
            return int(conn.execute(query).scalar_one())
    finally:
        engine.dispose()


def _raw_request(stack: ApiStack, user: int, head: str, body: bytes) -> tuple[socket.socket, int]:
    parts = urlsplit(stack.url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
    sock.sendall(
        (
            f"POST /uploads HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Authorization: Bearer {stack.token(user)}\r\n{head}\r\n"
        ).encode()
        + body
    )
    return sock, len(body)


@pytest.mark.parametrize(
    "name,header,content_type,size",
    [("small.jpg", "image/jpeg", "image/jpeg", (64, 48)),
     ("small.png", "application/octet-stream", "image/png", (64, 48)),
     ("small.webp", "image/jpeg", "image/webp", (64, 48)),
     ("medium.jpg", "image/jpeg", "image/jpeg", (1024, 768))],
)  # fmt: skip
def test_raw_upload_completes_with_thumbnail(
    api_stack: ApiStack, name: str, header: str, content_type: str, size: tuple[int, int]
) -> None:
    """A raw image body is stored, processed and thumbnailed; the bytes decide its type."""
    client = api_stack.client(user_id=221)
    data = image(name)
    body = _post_raw(api_stack, 221, data, header)
    assert body["content_type"] == content_type
    assert body["size_bytes"] == len(data)
    blob_name = str(body["blob_url"]).split("/", 3)[3]
    assert blob_name.startswith("uploads/221/")
    assert api_stack.storage.download_blob(blob_name) == data
    job = wait_for_job(client, str(body["job_id"]))
    assert job["status"] == "completed", job
    assert (job["width"], job["height"]) == size
    thumbnail = fetch(job["thumbnail_url"])
    assert thumbnail.status_code == 200
    picture = Image.open(io.BytesIO(thumbnail.content))
    assert picture.format == "JPEG" and max(picture.size) <= 256
    assert api_stack.storage.head_object(f"thumbnails/{body['job_id']}.jpg").size == len(
        thumbnail.content
    )


@pytest.mark.parametrize("size", [3 * MB, 10 * MB], ids=["3MB", "10MB-limit"])
def test_large_raw_upload_streams_exact_bytes(api_stack: ApiStack, size: int) -> None:
    """Above the single-request size the body streams into one request: bytes intact."""
    data = large_jpeg(size)
    body = _post_raw(api_stack, 222, data, "image/jpeg")
    assert body["size_bytes"] == size
    blob_name = str(body["blob_url"]).split("/", 3)[3]
    assert api_stack.storage.download_blob(blob_name) == data


def test_raw_upload_without_content_length_is_411(api_stack: ApiStack) -> None:
    """A chunked raw body has no declared length: 411, nothing stored."""
    chunk = image("small.jpg")
    wire = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n0\r\n\r\n"
    sock, _ = _raw_request(
        api_stack, 223, "Content-Type: image/jpeg\r\nTransfer-Encoding: chunked\r\n", wire
    )
    with sock:
        response = read_response(sock, whole=True)
    assert response.startswith(b"HTTP/1.1 411"), response[:300]
    assert b"connection: close" in response.lower()
    assert b"needs a Content-Length" in response, response
    assert api_stack.storage.list_blobs(prefix="uploads/223/") == []
    assert _rows(api_stack, 223) == 0


def test_raw_declared_length_over_the_limit_is_413_before_reading(api_stack: ApiStack) -> None:
    """Content-Length says 50 MB: 413 arrives after the first piece, the rest is not read."""
    head = f"Content-Type: image/jpeg\r\nContent-Length: {50 * MB}\r\n"
    sock, sent = _raw_request(api_stack, 224, head, b"\xff\xd8\xff\xe0" + b"\x00" * 60_000)
    with sock:
        response = read_response(sock)
    assert response.startswith(b"HTTP/1.1 413"), response[:300]
    assert sent < MB
    assert api_stack.storage.list_blobs(prefix="uploads/224/") == []


def test_raw_upload_of_non_image_bytes_is_415(api_stack: ApiStack) -> None:
    """The header says image/jpeg, the bytes are not an image: 415, nothing stored."""
    client = api_stack.client(user_id=225)
    for data in (image("wrong_magic.jpg"), image("gif.gif"), b"not an image at all" * 2000):
        response = client.post("/uploads", content=data, headers={"Content-Type": "image/jpeg"})
        assert_error(response, 415, "unsupported_media_type")
    assert api_stack.storage.list_blobs(prefix="uploads/225/") == []
    assert _rows(api_stack, 225) == 0


def _metric(stack: ApiStack, name: str, outcome: str) -> float:
    """One sample of the app's /metrics (0 when it was never incremented)."""
    response = stack.client(user_id=226).get("/metrics")
    assert response.status_code == 200, response.text
    text = response.text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels.get("outcome") == outcome:
                return float(sample.value)
    return 0.0


@pytest.mark.parametrize("sent", [100_000, 3 * MB], ids=["small", "streamed"])
def test_raw_body_shorter_than_declared_stores_nothing(api_stack: ApiStack, sent: int) -> None:
    """The client declares 5 MB, sends part of it and goes away: no blob, no row.

    Waits on the app's own counters, not on time: the connection is closed once the app
    has taken in every byte sent (for the streamed case its storage request is running),
    and the blob is looked for once the app counted the upload as failed (the route counts
    it after the storage call ended, so a late commit would already be there).
    """
    declared = 5 * MB
    received = _metric(api_stack, "crownsafe_upload_bytes_total", "received")
    invalid = _metric(api_stack, "crownsafe_uploads_total", "invalid")
    head = f"Content-Type: image/jpeg\r\nContent-Length: {declared}\r\n"
    sock, _ = _raw_request(api_stack, 226, head, large_jpeg(declared)[:sent])

    def taken_in() -> None:
        got = _metric(api_stack, "crownsafe_upload_bytes_total", "received") - received
        if got < sent:
            raise NotYet(f"the app has taken in {got:.0f} of {sent} bytes")

    poll(taken_in, timeout=30)
    sock.close()

    def ended() -> None:
        if _metric(api_stack, "crownsafe_uploads_total", "invalid") <= invalid:
            raise NotYet("the app has not ended the upload yet")

    poll(ended, timeout=30)
    assert api_stack.client().get("/health").status_code in (200, 503)  # still serving
    assert api_stack.storage.list_blobs(prefix="uploads/226/") == []
    assert _rows(api_stack, 226) == 0
