"""The audit trail: every blob operation leaves its row, the rows cannot be changed, and a
write that cannot be audited does not happen.

The rows are read from the stack's own database (`crownsafe.audit_query`, what
`crownsafe-harness audit` prints). Each row must carry the correlation id of the response
that caused it. The failing-trail test makes the database itself refuse audit rows (a
trigger the test installs and removes), the way a full disk or a revoked grant would.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from api.helpers import NotYet, create_scan, poll, upload
from sqlalchemy import Engine, create_engine, func, pool, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from crownsafe.audit_query import AuditQuery, find_audit_rows
from crownsafe.db.models import BlobAuditLog, ImageJob
from harness.fixtures.api import ApiStack

from .helpers import small_jpeg, stored

USER = 9701  # 9701-9732: this module only (other suites use 91xx-92xx)


@contextmanager
def _database(stack: ApiStack) -> Iterator[Engine]:
    engine = create_engine(stack.database_url, poolclass=pool.NullPool)
    try:
        yield engine
    finally:
        engine.dispose()


def _rows(stack: ApiStack, user_id: int) -> list[BlobAuditLog]:
    with _database(stack) as engine, Session(engine) as session:
        return find_audit_rows(session, AuditQuery(user_id=user_id, limit=1000))


def _cid(response: httpx.Response) -> str:
    return response.headers["x-correlation-id"]


def _completed(client: httpx.Client, job_id: str) -> httpx.Response:
    """The first status response that says completed (the earlier ones hand out no URL)."""

    def check() -> httpx.Response:
        response = client.get(f"/uploads/{job_id}")
        if response.json()["status"] != "completed":
            raise NotYet(response.json()["status"])
        return response

    result: httpx.Response = poll(check, timeout=90)
    return result


def test_every_blob_operation_leaves_one_audit_row_with_its_correlation_id(
    api_stack: ApiStack,
) -> None:
    """A session of every blob operation leaves exactly its audit rows, each with the
    correlation id, user, client IP, backend and blob its response carried."""
    user = USER + (0 if api_stack.backend == "azure" else 1)
    client = api_stack.client(user_id=user)
    expected: list[tuple[str, str, str]] = []  # (operation, outcome, correlation id)

    scan_id = create_scan(client)["id"]
    uploaded = upload(client, small_jpeg())
    assert uploaded.status_code == 202, uploaded.text
    expected.append(("upload", "ok", _cid(uploaded)))
    refused = upload(client, b"plain text, not an image", "notes.txt", "text/plain")
    assert refused.status_code == 415, refused.text
    expected.append(("upload", "refused", _cid(refused)))

    job_id = uploaded.json()["job_id"]
    status = _completed(client, job_id)
    assert status.json()["thumbnail_url"], status.text
    expected.append(("sas_issued", "ok", _cid(status)))

    share = client.post(f"/scans/{scan_id}/shares", json={"format": "json"})
    assert share.status_code == 201, share.text
    expected.append(("share_created", "ok", _cid(share)))
    token = share.json()["token"]
    resolved = client.get(f"/shares/{token}")
    assert resolved.status_code == 200, resolved.text
    expected.append(("share_resolved", "ok", _cid(resolved)))
    revoked = client.delete(f"/shares/{token}")
    assert revoked.status_code == 204
    expected.append(("share_revoked", "ok", _cid(revoked)))
    gone = client.get(f"/shares/{token}")
    assert gone.status_code == 410
    expected.append(("share_resolved", "refused", _cid(gone)))

    report = client.post(f"/scans/{scan_id}/reports", json={"format": "json"})
    assert report.status_code == 201, report.text
    expected.append(("report_generated", "ok", _cid(report)))

    deleted = client.delete(f"/uploads/{job_id}")
    assert deleted.status_code == 204
    expected += [("delete", "ok", _cid(deleted))] * 2  # the image and its thumbnail
    scan_deleted = client.delete(f"/scans/{scan_id}")
    assert scan_deleted.status_code == 204
    expected.append(("delete", "ok", _cid(scan_deleted)))  # the report (the share is gone)

    rows = _rows(api_stack, user)
    assert [(r.operation, r.outcome, r.correlation_id) for r in rows] == expected
    assert {r.client_ip for r in rows} == {"127.0.0.1"}
    assert {r.backend for r in rows} == {api_stack.backend}
    image = f"uploads/{user}/{job_id}.jpg"
    assert rows[0].blob_name == image and rows[0].size_bytes == len(small_jpeg())
    assert rows[1].blob_name is None and rows[1].detail == {
        "job_id": rows[1].detail["job_id"],  # type: ignore[index]
        "status": 415,
        "reason": "unsupported_type",
    }
    assert rows[2].blob_name == f"thumbnails/{job_id}.jpg"
    assert rows[3].blob_name == rows[4].blob_name == rows[5].blob_name
    assert rows[3].blob_name and rows[3].blob_name.startswith(f"shares/{user}/")
    assert {rows[8].blob_name, rows[9].blob_name} == {image, rows[2].blob_name}
    assert rows[10].blob_name == rows[7].blob_name
    assert all("token" not in str(r.detail) for r in rows), "a share token is a capability"


def test_the_database_refuses_to_change_or_remove_audit_rows(api_stack: ApiStack) -> None:
    """UPDATE, DELETE and TRUNCATE of blob_audit_log are refused by PostgreSQL itself."""
    client = api_stack.client(user_id=USER + 10)
    assert client.post(f"/scans/{create_scan(client)['id']}/shares", json={}).status_code == 201
    statements = (
        "UPDATE blob_audit_log SET outcome = 'failed'",
        "DELETE FROM blob_audit_log",
        "TRUNCATE blob_audit_log",
    )
    with _database(api_stack) as engine:
        with engine.connect() as conn:
            before = conn.scalar(select(func.count()).select_from(BlobAuditLog))
        assert before
        for statement in statements:
            with engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
                conn.execute(text(statement))
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(BlobAuditLog)) == before
            assert conn.scalar(
                select(func.count()).select_from(BlobAuditLog).where(
                    BlobAuditLog.outcome == "failed"
                )
            ) == 0  # fmt: skip


@contextmanager
def _audit_rows_refused(stack: ApiStack) -> Iterator[None]:
    """The database refuses every new audit row until the block ends."""
    create = (
        "CREATE FUNCTION test_refuse_audit() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'audit store unavailable (test)'; END; $$",
        "CREATE TRIGGER test_refuse_audit BEFORE INSERT ON blob_audit_log "
        "FOR EACH ROW EXECUTE FUNCTION test_refuse_audit()",
    )
    drop = (
        "DROP TRIGGER IF EXISTS test_refuse_audit ON blob_audit_log",
        "DROP FUNCTION IF EXISTS test_refuse_audit()",
    )
    with _database(stack) as engine:
        with engine.begin() as conn:
            for statement in create:
                conn.execute(text(statement))
        try:
            yield
        finally:
            with engine.begin() as conn:
                for statement in drop:
                    conn.execute(text(statement))


def _job_rows(stack: ApiStack, user_id: int) -> int:
    with _database(stack) as engine, engine.connect() as conn:
        count = select(func.count()).select_from(ImageJob).where(ImageJob.user_id == user_id)
        return int(conn.scalar(count) or 0)


def _failures(client: httpx.Client, operation: str) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(f'crownsafe_audit_write_failures_total{{operation="{operation}"}}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_a_write_that_cannot_be_audited_is_refused_and_a_read_goes_on(
    api_stack: ApiStack,
) -> None:
    """With audit rows refused: an upload is 503 and stores nothing; a share still
    resolves (the read goes on), and the lost row is counted."""
    user = USER + 20 + (0 if api_stack.backend == "azure" else 1)
    client = api_stack.client(user_id=user)
    share = client.post(f"/scans/{create_scan(client)['id']}/shares", json={})
    assert share.status_code == 201, share.text
    blobs_before, lost_before = stored(api_stack), _failures(client, "share_resolved")
    with _audit_rows_refused(api_stack):
        refused = upload(client, small_jpeg())
        resolved = client.get(f"/shares/{share.json()['token']}")
    assert refused.status_code == 503, refused.text
    assert refused.headers["retry-after"]
    assert stored(api_stack) == blobs_before
    assert _job_rows(api_stack, user) == 0
    assert resolved.status_code == 200, resolved.text
    assert _failures(client, "share_resolved") == lost_before + 1
    operations = [(r.operation, r.correlation_id) for r in _rows(api_stack, user)]
    assert ("upload", _cid(refused)) not in operations
    assert ("share_resolved", _cid(resolved)) not in operations


def test_a_forwarded_for_header_from_an_untrusted_peer_changes_nothing(
    api_stack: ApiStack,
) -> None:
    """X-Forwarded-For from a peer that is not a TRUSTED_PROXIES proxy is ignored: the
    audit row names the connection's own address."""
    user = USER + 30 + (0 if api_stack.backend == "azure" else 1)
    client = api_stack.client(user_id=user)
    scan_id = create_scan(client)["id"]
    share = client.post(
        f"/scans/{scan_id}/shares", json={}, headers={"X-Forwarded-For": "203.0.113.9"}
    )
    assert share.status_code == 201, share.text
    (row,) = [r for r in _rows(api_stack, user) if r.correlation_id == _cid(share)]
    assert (row.operation, row.client_ip) == ("share_created", "127.0.0.1")
