"""What the security tests share: typed-error checks, storage snapshots, raw responses."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import boto3
import httpx
from azure.storage.blob import BlobServiceClient

from harness.fixtures.api import ApiStack

IMAGES = Path(__file__).resolve().parents[2] / "fixtures" / "images"


def small_jpeg() -> bytes:
    """A real, decodable JPEG from the fixtures (what a well-behaved client sends)."""
    return (IMAGES / "small.jpg").read_bytes()


def assert_typed(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The API's one error shape: `{"error": {status, code, message, correlation_id}}`."""
    assert response.status_code == status, (
        f"expected {status}, got {response.status_code}: {response.text[:300]}"
    )
    body: dict[str, Any] = response.json()
    error: dict[str, Any] = body["error"]
    assert set(body) == {"error"}, body
    assert error["status"] == status
    assert error["correlation_id"] == response.headers["x-correlation-id"]
    if code is not None:
        assert error["code"] == code, error
    return error


def stored(stack: ApiStack) -> dict[str, int]:
    """Every blob a request put in the stack's container, name -> size (the 'nothing stored'
    evidence). `thumbnails/` is left out: the worker writes there on its own time, for
    uploads that earlier tests made, so it may grow during any test."""
    return {
        blob.name: blob.size
        for blob in stack.storage.list_blobs()
        if not blob.name.startswith("thumbnails/")
    }


def raw_text(response: httpx.Response) -> list[str]:
    """The response as a client sees it: status line, every header, the body."""
    head = [f"HTTP {response.status_code} {response.reason_phrase}"]
    head += [f"{name}: {value}" for name, value in response.headers.multi_items()]
    return [*head, response.content.decode("utf-8", errors="replace")]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned_token(claims: dict[str, Any]) -> str:
    """A JWT with `alg: none` and an empty signature (the classic forgery)."""
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{_b64(json.dumps(claims).encode())}."


def storage_secret(stack: ApiStack) -> str:
    """The storage credential the app holds: Azure's account key or S3's secret key."""
    if stack.backend == "s3":
        return stack.env["AWS_SECRET_ACCESS_KEY"]
    if key := stack.env.get("AZURE_STORAGE_ACCOUNT_KEY"):
        return key
    parts = dict(
        part.split("=", 1)
        for part in stack.env["AZURE_STORAGE_CONNECTION_STRING"].split(";")
        if "=" in part
    )
    return parts["AccountKey"]


def leftovers(stack: ApiStack, prefix: str) -> list[str]:
    """Everything under `prefix` in the stack's storage, committed or not: Azure's
    uncommitted blobs (staged blocks) and S3's unfinished multipart uploads included."""
    env = stack.env
    if stack.backend == "azure":
        service = BlobServiceClient.from_connection_string(
            env["AZURE_STORAGE_CONNECTION_STRING"], retry_total=0
        )
        with service:
            container = service.get_container_client(env["AZURE_STORAGE_CONTAINER"])
            blobs = container.list_blobs(name_starts_with=prefix, include=["uncommittedblobs"])
            return sorted(blob.name for blob in blobs)
    s3 = boto3.client(
        "s3",
        endpoint_url=env["S3_ENDPOINT_URL"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=env.get("AWS_REGION", "us-east-1"),
    )
    bucket = env["S3_BUCKET"]
    objects = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    uploads = s3.list_multipart_uploads(Bucket=bucket, Prefix=prefix).get("Uploads", [])
    return sorted([o["Key"] for o in objects] + [f"multipart:{u['Key']}" for u in uploads])
