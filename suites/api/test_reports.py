"""Risk reports in PDF, HTML and JSON: stored (read-only SAS) or, with storage off, inline."""

from __future__ import annotations

import base64
import io
import json
from html.parser import HTMLParser

import jsonschema
import pytest
from pypdf import PdfReader

from harness.fixtures.api import ApiStack, ApiStackFactory

from .helpers import assert_error, create_scan, fetch, report_schema


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: dict[str, str] = {}
        self._current: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._current = dict(attrs).get("id")

    def handle_endtag(self, tag: str) -> None:
        self._current = None

    def handle_data(self, data: str) -> None:
        if self._current:
            self.ids[self._current] = self.ids.get(self._current, "") + data


def _check(fmt: str, body: bytes, product: str) -> None:
    if fmt == "pdf":
        assert body.startswith(b"%PDF-")
        reader = PdfReader(io.BytesIO(body))
        assert len(reader.pages) >= 1
        assert "Crown Safe risk report" in reader.pages[0].extract_text()
    elif fmt == "html":
        text = body.decode()
        assert "<Coconut" not in text, "user text must be escaped"
        parser = _Text()
        parser.feed(text)
        assert parser.ids["product"] == product
    else:
        document = json.loads(body)
        jsonschema.validate(document, report_schema())
        assert document["scan"]["product_name"] == product


@pytest.mark.parametrize("fmt", ["pdf", "html", "json"])
def test_stored_report_downloads_and_parses(api_stack: ApiStack, fmt: str) -> None:
    """The report is stored, recorded, and its read-only SAS URL serves a valid document."""
    client = api_stack.client(user_id=401)
    scan = create_scan(client, "edge_control_medium")
    response = client.post(f"/scans/{scan['id']}/reports", json={"format": fmt})
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["stored"] is True and report["content"] is None
    downloaded = fetch(report["url"])
    assert downloaded.status_code == 200
    assert len(downloaded.content) == report["size_bytes"]
    _check(fmt, downloaded.content, scan["product_name"])
    names = [b.name for b in api_stack.storage.list_blobs(prefix="reports/401/")]
    assert f"reports/401/{report['report_id']}.{fmt}" in names


def test_report_of_another_users_scan_is_404(api_stack: ApiStack) -> None:
    owner, other = api_stack.client(user_id=402), api_stack.client(user_id=403)
    scan = create_scan(owner)
    assert_error(other.post(f"/scans/{scan['id']}/reports", json={"format": "pdf"}), 404)
    assert_error(owner.post(f"/scans/{scan['id']}/reports", json={"format": "docx"}), 422)


def test_report_inline_when_storage_is_disabled(
    backend_name: str, make_api_stack: ApiStackFactory
) -> None:
    """AZURE_BLOB_ENABLED=false: the report is in the response, marked not stored."""
    stack = make_api_stack(backend_name, worker=False, AZURE_BLOB_ENABLED="false")
    client = stack.client(user_id=404)
    scan = create_scan(client, "edge_control_medium")
    for fmt in ("pdf", "html", "json"):
        report = client.post(f"/scans/{scan['id']}/reports", json={"format": fmt}).json()
        assert report["stored"] is False and report["url"] is None
        assert "not stored" in report["note"]
        content = report["content"]
        body = base64.b64decode(content) if fmt == "pdf" else content.encode()
        _check(fmt, body, scan["product_name"])
    assert stack.storage.list_blobs(prefix="reports/") == []
