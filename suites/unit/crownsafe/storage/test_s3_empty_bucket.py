"""Emptying a bucket on a service without batch delete (DeleteObjects -> 501 NotImplemented),
version listing or multipart-upload listing (501 or 405).

A tiny loopback HTTP server plays that service for the real S3StorageClient (boto3 and
all): it lists versions (or, without them, objects) a page at a time, answers what it
lacks with 501/405, and deletes single objects. Teardown must fall back to what the
service offers, and ask for what it lacks only once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from crownsafe.config import Settings
from crownsafe.errors import StorageAuthError
from crownsafe.storage.s3 import S3StorageClient

BUCKET = "cs-no-batch-delete"
NS = "http://s3.amazonaws.com/doc/2006-03-01/"


@dataclass
class FakeS3:
    """The state of the fake service, and what it was asked."""

    objects: set[str] = field(default_factory=lambda: {"a.txt", "b/c.txt", "d.bin"})
    page_size: int = 2
    batch_status: int = 501
    uploads_status: int = 200
    versions_status: int = 200
    requests: list[str] = field(default_factory=list)
    bucket_deleted: bool = False


def _error(code: str, message: str) -> bytes:
    return f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()


def _versions(keys: list[str]) -> bytes:
    items = "".join(
        f"<Version><Key>{k}</Key><VersionId>null</VersionId><IsLatest>true</IsLatest>"
        '<LastModified>2026-01-01T00:00:00.000Z</LastModified><ETag>"e"</ETag>'
        "<Size>1</Size><StorageClass>STANDARD</StorageClass></Version>"
        for k in keys
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><ListVersionsResult xmlns="{NS}">'
        f"<Name>{BUCKET}</Name><Prefix></Prefix><MaxKeys>1000</MaxKeys>"
        f"<IsTruncated>false</IsTruncated>{items}</ListVersionsResult>"
    ).encode()


def _objects(keys: list[str]) -> bytes:
    items = "".join(
        f"<Contents><Key>{k}</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified>"
        '<ETag>"e"</ETag><Size>1</Size><StorageClass>STANDARD</StorageClass></Contents>'
        for k in keys
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="{NS}">'
        f"<Name>{BUCKET}</Name><Prefix></Prefix><KeyCount>{len(keys)}</KeyCount>"
        f"<MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>{items}</ListBucketResult>"
    ).encode()


_LACKING = {
    501: ("NotImplemented", "A header you provided implies functionality that is not implemented"),
    405: ("MethodNotAllowed", "The specified method is not allowed against this resource."),
}


def _no_uploads() -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><ListMultipartUploadsResult xmlns="{NS}">'
        f"<Bucket>{BUCKET}</Bucket><MaxUploads>1000</MaxUploads>"
        "<IsTruncated>false</IsTruncated></ListMultipartUploadsResult>"
    ).encode()


def _handler(state: FakeS3) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _answer(self, status: int, body: bytes = b"") -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Content-Type", "application/xml")
            self.end_headers()
            self.wfile.write(body)

        def _route(self) -> tuple[str, dict[str, list[str]]]:
            parts = urlsplit(self.path)
            state.requests.append(f"{self.command} {parts.path}?{parts.query}")
            return unquote(parts.path), parse_qs(parts.query, keep_blank_values=True)

        def do_GET(self) -> None:
            _, query = self._route()
            if "uploads" in query and state.uploads_status != 200:
                self._answer(state.uploads_status, _error(*_LACKING[state.uploads_status]))
            elif "uploads" in query:
                self._answer(200, _no_uploads())
            elif "versions" in query and state.versions_status != 200:
                self._answer(state.versions_status, _error(*_LACKING[state.versions_status]))
            elif "versions" in query:
                self._answer(200, _versions(sorted(state.objects)[: state.page_size]))
            elif query.get("list-type") == ["2"]:
                self._answer(200, _objects(sorted(state.objects)[: state.page_size]))
            else:
                self._answer(404, _error("NoSuchKey", "no"))

        def do_POST(self) -> None:
            self._route()
            if state.batch_status in _LACKING:
                self._answer(state.batch_status, _error(*_LACKING[state.batch_status]))
            else:
                self._answer(state.batch_status, _error("AccessDenied", "denied"))

        def do_DELETE(self) -> None:
            path, _ = self._route()
            key = path.removeprefix(f"/{BUCKET}").lstrip("/")
            if key:
                state.objects.discard(key)
            else:
                state.bucket_deleted = True
            self._answer(204)

    return Handler


@pytest.fixture
def fake_s3() -> Iterator[tuple[FakeS3, str]]:
    state = FakeS3()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _client(endpoint: str) -> S3StorageClient:
    return S3StorageClient(
        BUCKET,
        endpoint_url=endpoint,
        region="us-east-1",
        access_key_id="test",
        secret_access_key="test",
        settings=Settings(),
    )


def test_delete_container_falls_back_to_single_deletes_on_501(
    fake_s3: tuple[FakeS3, str],
) -> None:
    """501 on DeleteObjects: every version is deleted singly, the bucket too, no error."""
    state, endpoint = fake_s3
    with _client(endpoint) as client:
        client.delete_container()
    assert state.objects == set()
    assert state.bucket_deleted
    batch = [r for r in state.requests if r.startswith("POST") and "delete" in r]
    singles = [r for r in state.requests if r.startswith("DELETE") and "versionId=null" in r]
    assert len(batch) == 1, f"the batch delete is asked once, then not again: {batch}"
    assert len(singles) == 3


def test_other_batch_delete_errors_still_raise(fake_s3: tuple[FakeS3, str]) -> None:
    """Only NotImplemented falls back: a 403 on DeleteObjects is the typed auth error."""
    state, endpoint = fake_s3
    state.batch_status = 403
    with _client(endpoint) as client, pytest.raises(StorageAuthError):
        client.delete_container()
    assert state.objects, "nothing was deleted one by one"
    assert not state.bucket_deleted


@pytest.mark.parametrize("status", [501, 405])
def test_delete_container_without_version_or_upload_listing(
    fake_s3: tuple[FakeS3, str], status: int
) -> None:
    """ListMultipartUploads, ListObjectVersions and DeleteObjects all lacking (501 or 405):
    the objects are listed with ListObjectsV2 and deleted by key, the bucket too, no error;
    each lacking call is asked once."""
    state, endpoint = fake_s3
    state.uploads_status = state.versions_status = state.batch_status = status
    with _client(endpoint) as client:
        client.delete_container()
    assert state.objects == set()
    assert state.bucket_deleted
    asked = {
        what: [r for r in state.requests if marker(r)]
        for what, marker in {
            "uploads": lambda r: r.startswith("GET") and "uploads" in r,
            "versions": lambda r: r.startswith("GET") and "versions" in r,
            "batch": lambda r: r.startswith("POST") and "delete" in r,
            "singles": lambda r: r.startswith("DELETE") and r != f"DELETE /{BUCKET}?",
        }.items()
    }
    assert {what: len(requests) for what, requests in asked.items()} == {
        "uploads": 1, "versions": 1, "batch": 1, "singles": 3,
    }, asked  # fmt: skip
    assert not any("versionId" in r for r in asked["singles"])
