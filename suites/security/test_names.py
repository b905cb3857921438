"""Names from outside never choose where bytes land.

The API makes every blob name itself (`uploads/<user>/<job uuid>.<ext>`); where a client
does name a blob (a visual search's `image_url`) or an object (a job id, a share token in
the path), a hostile name is refused with the API's typed error and nothing is stored.
"""

from __future__ import annotations

import re

import httpx

from harness.fixtures.api import ApiStack

from .helpers import assert_typed, small_jpeg, stored

USER, OTHER = 9101, 9102
HOSTILE_FILENAMES = [
    f"../../uploads/{OTHER}/evil.jpg",
    "..\\..\\..\\evil.jpg",
    "/etc/passwd",
    f"uploads/{OTHER}/mine-now.jpg",
    "%2e%2e%2f%2e%2e%2fevil.jpg",
    "evil\x00.jpg",
    "evil\r\nX-Injected: 1.jpg",
    "n" * 4096 + ".jpg",
]


def test_client_filenames_never_choose_the_blob_name(api_stack: ApiStack) -> None:
    """A hostile multipart filename is ignored: the blob lands in the uploader's own prefix."""
    client = api_stack.client(user_id=USER)
    before = stored(api_stack)
    pattern = re.compile(rf"^uploads/{USER}/[0-9a-f-]{{36}}\.jpg$")
    for filename in HOSTILE_FILENAMES:
        response = client.post("/uploads", files={"file": (filename, small_jpeg(), "image/jpeg")})
        assert response.status_code == 202, (filename[:40], response.text[:300])
        blob_url = response.json()["blob_url"]
        name = blob_url.split("/", 3)[3]
        assert pattern.match(name), (filename[:40], blob_url)
    new = set(stored(api_stack)) - set(before)
    assert len(new) == len(HOSTILE_FILENAMES)
    assert all(pattern.match(name) for name in new), sorted(new)
    assert not [name for name in stored(api_stack) if name.startswith(f"uploads/{OTHER}/")]


HOSTILE_IMAGE_URLS = [
    f"blob://{{container}}/uploads/{USER}/../{OTHER}/x.jpg",
    f"blob://{{container}}/uploads/{USER}/%2e%2e/{OTHER}/x.jpg",
    "blob://{container}/../../etc/passwd",
    f"blob://{{container}}/uploads/{USER}/a%00b.jpg",
    f"blob://{{container}}/uploads/{USER}/a%0d%0ab.jpg",
    f"blob://{{container}}/uploads/{USER}/" + "n" * 2000 + ".jpg",
    "blob://{container}/",
    "file:///etc/passwd",
    "blob://{container}/uploads\\..\\..\\etc\\passwd",
]


def test_traversal_in_blob_urls_and_paths_is_refused(api_stack: ApiStack) -> None:
    """Traversal, control and overlong names in a blob URL or path id: typed 4xx, nothing stored.

    A blob URL is refused as invalid (422); a path id is refused as invalid or not found
    (422 / 404), never 2xx or 5xx."""
    client = api_stack.client(user_id=USER)
    container = api_stack.storage.container_name
    before = stored(api_stack)
    for template in HOSTILE_IMAGE_URLS:
        url = template.format(container=container)
        response = client.post("/visual/search", json={"image_url": url})
        error = assert_typed(response, 422, "invalid_request")
        assert "image_url" in error["message"], (url[:80], error)
    for path in (
        "/uploads/..%2F..%2Fshares",
        "/uploads/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/shares/..%2F..%2Fuploads%2F9102",
        "/shares/" + "A" * 65,
        "/scans/..%2F1",
    ):
        response = client.get(httpx.URL(api_stack.url + path))
        assert response.status_code in (404, 422), (path, response.status_code, response.text)
        assert_typed(response, response.status_code)
    assert stored(api_stack) == before
