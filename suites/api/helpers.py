"""Helpers of the API suite: sample data, uploads, polling, fetching SAS URLs."""

from __future__ import annotations

import importlib.util
import json
import select
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_fixed

from harness.fixtures.api import ApiStack

REPO = Path(__file__).resolve().parents[2]
IMAGES = REPO / "fixtures" / "images"
SCANS = REPO / "fixtures" / "scans"
REPORT_SCHEMA = REPO / "docs" / "risk-report.schema.json"


class NotYet(AssertionError):
    """A polled condition does not hold yet."""


def large_jpeg(size: int) -> bytes:
    """`size` bytes with JPEG magic (fixtures/images/make_images.py's `large_jpeg_bytes`)."""
    spec = importlib.util.spec_from_file_location("make_images", IMAGES / "make_images.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    data: bytes = module.large_jpeg_bytes(size)
    return data


def image(name: str) -> bytes:
    return (IMAGES / name).read_bytes()


def sample_scan(name: str = "relaxer_high_risk") -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SCANS / f"{name}.json").read_text())
    return data


def report_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(REPORT_SCHEMA.read_text())
    return schema


def upload(
    client: httpx.Client,
    data: bytes,
    filename: str = "photo.jpg",
    content_type: str = "image/jpeg",
) -> httpx.Response:
    return client.post("/uploads", files={"file": (filename, data, content_type)})


def create_scan(client: httpx.Client, name: str = "relaxer_high_risk") -> dict[str, Any]:
    response = client.post("/scans", json=sample_scan(name))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def poll(check: Any, *, timeout: float = 60.0, interval: float = 0.2) -> Any:
    """Call `check` until it stops raising NotYet (tenacity, no bare sleeps)."""
    for attempt in Retrying(
        stop=stop_after_delay(timeout),
        wait=wait_fixed(interval),
        retry=retry_if_exception_type(NotYet),
        reraise=True,
    ):
        with attempt:
            return check()
    raise AssertionError("unreachable")


def wait_for_job(
    client: httpx.Client,
    job_id: str,
    *,
    timeout: float = 60.0,
    done: tuple[str, ...] = ("completed", "failed"),
) -> dict[str, Any]:
    def check() -> dict[str, Any]:
        response = client.get(f"/uploads/{job_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["status"] not in done:
            raise NotYet(f"job {job_id} is {body['status']}")
        return body

    result: dict[str, Any] = poll(check, timeout=timeout)
    return result


def fetch(url: str) -> httpx.Response:
    """GET a SAS / presigned URL directly from the storage emulator."""
    with httpx.Client(trust_env=False, timeout=30) as client:
        return client.get(url)


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is the API's one error shape with `status` (and `code`)."""
    assert response.status_code == status, (
        f"expected {status}, got {response.status_code}: {response.text}"
    )
    body: dict[str, Any] = response.json()
    error = body["error"]
    assert error["status"] == status
    assert error["correlation_id"] == response.headers["x-correlation-id"]
    if code is not None:
        assert error["code"] == code, error
    return error


def read_response(sock: socket.socket, *, whole: bool = False) -> bytes:
    """A raw HTTP response's head (`whole`: everything until the server closes)."""
    response = b""
    try:
        while whole or b"\r\n\r\n" not in response:
            data = sock.recv(65536)
            if not data:
                break
            response += data
    except ConnectionResetError:
        pass
    return response


# A multipart upload of DECLARED bytes sent piece by piece (the upload size limit tests)
DECLARED = 50 * 1024 * 1024
PIECE = 64 * 1024
BOUNDARY = "crownsafe-limit-test"


def _limit_head(stack: ApiStack, user: int, *, chunked: bool) -> bytes:
    host = urlsplit(stack.url).netloc
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {DECLARED}"
    return (
        f"POST /uploads HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: Bearer {stack.token(user)}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n{framing}\r\n\r\n"
    ).encode()


def _limit_part_head() -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode() + b"\xff\xd8\xff\xe0"


def send_until_answered(stack: ApiStack, user: int, *, chunked: bool) -> tuple[int, bytes]:
    """Send the body piece by piece; return (body bytes sent, the response)."""
    parts = urlsplit(stack.url)
    sent = 0
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(_limit_head(stack, user, chunked=chunked))
        first = _limit_part_head()
        while sent < DECLARED:
            piece = first or b"\x00" * PIECE
            first = b""
            wire = f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            try:
                sock.sendall(wire)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(piece)
        sock.settimeout(30)
        response = read_response(sock)
    return sent, response
