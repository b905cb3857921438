"""Whose fault is it? A client's own fault never opens the storage circuit breaker.

Before, five uploads refused with 413 (or five raw uploads whose client hung up mid-body)
counted as storage failures: the process-wide breaker opened and, for about 60 s, every
user's uploads and share creations answered 503 while `/health/azure-storage` said
healthy. On a fresh app (its own breaker), each of those faults happens five times with
its storage upload already streaming; then an ordinary upload and a share still work and
the health check reports the breaker closed.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from harness.fixtures.api import ApiStack, ApiStackFactory

from .helpers import NotYet, create_scan, image, large_jpeg, poll, send_until_answered, upload

MB = 1024 * 1024
FAULTS = 5


def _metric_total(stack: ApiStack, name: str, outcome: str) -> float:
    text = stack.client(user_id=950).get("/metrics").text
    total = 0.0
    for line in text.splitlines():
        if line.startswith(f"{name}{{") and f'outcome="{outcome}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def _hang_up_mid_body(stack: ApiStack, user: int) -> None:
    """A raw upload that declares 5 MB, sends 3 MB (its storage upload is streaming by
    then) and closes the connection; returns once the app counted it as failed."""
    invalid = _metric_total(stack, "crownsafe_uploads_total", "invalid")
    parts = urlsplit(stack.url)
    declared, sent = 5 * MB, 3 * MB
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(
            (
                f"POST /uploads HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                f"Authorization: Bearer {stack.token(user)}\r\n"
                f"Content-Type: image/jpeg\r\nContent-Length: {declared}\r\n\r\n"
            ).encode()
            + large_jpeg(declared)[:sent]
        )

        def taken_in() -> None:
            if _metric_total(stack, "crownsafe_upload_bytes_total", "received") < sent:
                raise NotYet("the app has not taken in the bytes sent yet")

        poll(taken_in, timeout=30)

    def ended() -> None:
        if _metric_total(stack, "crownsafe_uploads_total", "invalid") <= invalid:
            raise NotYet("the app has not ended the upload yet")

    poll(ended, timeout=30)


def test_a_clients_own_faults_never_cost_other_users(
    backend_name: str, make_api_stack: ApiStackFactory
) -> None:
    stack = make_api_stack(backend_name, worker=False)
    for n in range(FAULTS):
        _, response = send_until_answered(stack, 960 + n, chunked=True)
        assert response.startswith(b"HTTP/1.1 413"), response[:200]
    for n in range(FAULTS):
        _hang_up_mid_body(stack, 970 + n)

    health = stack.client().get("/health/azure-storage")
    assert health.status_code == 200, health.text
    assert health.json()["checks"] == {"storage": "ok", "circuit_breaker": "ok"}
    client = stack.client(user_id=980)
    stored = upload(client, image("medium.jpg"))
    assert stored.status_code == 202, stored.text
    scan = create_scan(client)
    share = client.post(f"/scans/{scan['id']}/shares", json={"format": "json"})
    assert share.status_code == 201, share.text
    assert stack.storage.list_blobs(prefix="uploads/960/") == []
