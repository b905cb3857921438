"""Share links: snapshot in storage, fresh read-only SAS on resolution, expiry, revocation."""

from __future__ import annotations

import hashlib
import io
import json

import jsonschema
import pytest
from pypdf import PdfReader

from harness.fixtures.api import ApiStack

from .helpers import NotYet, assert_error, create_scan, fetch, poll, report_schema


def _share(client, scan_id: int, **body: object) -> dict[str, object]:  # type: ignore[no-untyped-def]
    response = client.post(f"/scans/{scan_id}/shares", json=body)
    assert response.status_code == 201, response.text
    share: dict[str, object] = response.json()
    return share


def test_json_share_serves_the_exact_snapshot(api_stack: ApiStack) -> None:
    """The SAS URL of a resolved JSON share serves the stored bytes, which match the scan."""
    owner, reader = api_stack.client(user_id=301), api_stack.client(user_id=399)
    scan = create_scan(owner, "edge_control_medium")
    share = _share(owner, scan["id"], format="json")
    assert str(share["url"]).endswith(f"/shares/{share['token']}")
    resolved = reader.get(f"/shares/{share['token']}")
    assert resolved.status_code == 200, resolved.text
    body = resolved.json()
    snapshot = fetch(body["url"])
    assert snapshot.status_code == 200
    assert len(snapshot.content) == body["size_bytes"]
    assert hashlib.sha256(snapshot.content).hexdigest() == body["sha256"]
    document = json.loads(snapshot.content)
    jsonschema.validate(document, report_schema())
    assert document["scan"]["product_name"] == scan["product_name"]


def test_pdf_share_and_redirect(api_stack: ApiStack) -> None:
    """A PDF share; `?redirect=true` answers 307 to a SAS URL that serves the PDF."""
    owner = api_stack.client(user_id=302)
    share = _share(owner, create_scan(owner)["id"], format="pdf")
    redirect = owner.get(f"/shares/{share['token']}", params={"redirect": "true"})
    assert redirect.status_code == 307
    pdf = fetch(redirect.headers["location"])
    assert pdf.content.startswith(b"%PDF-")
    assert len(PdfReader(io.BytesIO(pdf.content)).pages) >= 1


def test_sas_url_is_read_only(api_stack: ApiStack) -> None:
    """The resolved URL grants reading only (Azure enforces it; S3 URLs are bound to GET)."""
    owner = api_stack.client(user_id=303)
    share = _share(owner, create_scan(owner)["id"])
    url = owner.get(f"/shares/{share['token']}").json()["url"]
    if api_stack.backend == "azure":
        assert "sp=r&" in url or url.endswith("sp=r")
        with __import__("httpx").Client(trust_env=False) as raw:
            put = raw.put(url, content=b"overwrite", headers={"x-ms-blob-type": "BlockBlob"})
        assert put.status_code == 403
    else:
        assert "X-Amz-Expires=" in url and "X-Amz-Signature=" in url


def test_revoked_share_is_410_and_only_the_owner_revokes(api_stack: ApiStack) -> None:
    owner, other = api_stack.client(user_id=304), api_stack.client(user_id=305)
    share = _share(owner, create_scan(owner)["id"])
    token = share["token"]
    assert_error(other.delete(f"/shares/{token}"), 404)
    assert other.get(f"/shares/{token}").status_code == 200
    assert owner.delete(f"/shares/{token}").status_code == 204
    assert_error(other.get(f"/shares/{token}"), 410, "gone")
    assert owner.delete(f"/shares/{token}").status_code == 204


def test_expired_share_is_410(api_stack: ApiStack) -> None:
    """A 1-second link resolves at first, then (polled, no sleep) answers 410."""
    owner = api_stack.client(user_id=306)
    share = _share(owner, create_scan(owner)["id"], ttl_seconds=1)

    def expired() -> None:
        response = owner.get(f"/shares/{share['token']}")
        if response.status_code == 200:
            raise NotYet("still valid")
        assert_error(response, 410, "gone")

    poll(expired, timeout=15, interval=0.2)


@pytest.mark.parametrize("token", ["unknownTokenUnknownToken", "A" * 32])
def test_unknown_share_is_404(api_stack: ApiStack, token: str) -> None:
    assert_error(api_stack.client(user_id=307).get(f"/shares/{token}"), 404)


def test_share_of_another_users_scan_is_404(api_stack: ApiStack) -> None:
    owner, other = api_stack.client(user_id=308), api_stack.client(user_id=309)
    scan = create_scan(owner)
    assert_error(other.post(f"/scans/{scan['id']}/shares", json={"format": "json"}), 404)


def test_deleting_a_scan_removes_its_snapshots(api_stack: ApiStack) -> None:
    """Rows first, then blobs: after the delete the link is 404 and the blob is gone."""
    owner = api_stack.client(user_id=310)
    scan = create_scan(owner)
    share = _share(owner, scan["id"])
    before = {b.name for b in api_stack.storage.list_blobs(prefix="shares/310/")}
    assert len(before) == 1
    assert owner.delete(f"/scans/{scan['id']}").status_code == 204
    assert_error(owner.get(f"/shares/{share['token']}"), 404)
    assert api_stack.storage.list_blobs(prefix="shares/310/") == []
