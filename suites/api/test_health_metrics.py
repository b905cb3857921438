"""Health, metrics, correlation ids, CORS and trusted hosts."""

from __future__ import annotations

import re

from harness.fixtures.api import ApiStack

from .helpers import create_scan, image, upload


def test_health_is_open_and_healthy(api_stack: ApiStack) -> None:
    client = api_stack.client()
    health = client.get("/health")
    assert health.status_code == 200
    assert health.json()["checks"] == {"api": "ok", "database": "ok", "redis": "ok"}
    storage = client.get("/health/azure-storage")
    assert storage.status_code == 200
    expected = "azure_blob_storage" if api_stack.backend == "azure" else "s3"
    assert storage.json() == {
        "status": "healthy",
        "service": expected,
        "checks": {"storage": "ok", "circuit_breaker": "ok"},
        "failing": [],
    }


def test_correlation_id_round_trip(api_stack: ApiStack) -> None:
    """A client's X-Correlation-ID comes back, also in error bodies; a bad one is replaced."""
    client = api_stack.client(user_id=601)
    response = client.get("/scans/999999", headers={"X-Correlation-ID": "req-abc.123"})
    assert response.headers["x-correlation-id"] == "req-abc.123"
    assert response.json()["error"]["correlation_id"] == "req-abc.123"
    replaced = client.get("/health", headers={"X-Correlation-ID": "bad id\twith spaces"})
    assert re.fullmatch(r"[0-9a-f-]{36}", replaced.headers["x-correlation-id"])


def test_metrics_by_route_template(api_stack: ApiStack) -> None:
    client = api_stack.client(user_id=602)
    scan = create_scan(client)
    client.get(f"/scans/{scan['id']}")
    text = client.get("/metrics").text
    assert re.search(
        r'crownsafe_http_requests_total\{method="GET",route="/scans/\{scan_id\}",status="200"\}',
        text,
    )
    assert "crownsafe_http_request_duration_seconds_bucket" in text
    assert "crownsafe_upload_bytes_total" in text
    assert f"/scans/{scan['id']}" not in text


def test_metrics_show_the_storage_layer_after_an_upload(api_stack: ApiStack) -> None:
    """The storage metrics (docs/metrics.md) are on the app's own /metrics, over HTTP."""
    client = api_stack.client(user_id=603)
    data = image("small.png")
    assert upload(client, data, filename="m.png", content_type="image/png").status_code == 202
    text = client.get("/metrics").text
    backend = api_stack.backend

    def sample(name: str, labels: str) -> float:
        found = re.search(rf"^{name}\{{{labels}\}} (\S+)$", text, re.MULTILINE)
        assert found, f"no {name}{{{labels}}} in /metrics"
        return float(found.group(1))

    ok = f'backend="{backend}",operation="upload_file",outcome="success"'
    assert sample("crownsafe_storage_operations_total", ok) >= 1
    assert sample("crownsafe_storage_bytes_total", f'backend="{backend}",direction="upload"') >= (
        len(data)
    )
    duration = f'backend="{backend}",operation="upload_file"'
    assert sample("crownsafe_storage_operation_duration_seconds_count", duration) >= 1
    assert (
        sample("crownsafe_storage_circuit_breaker_state", f'backend="{backend}",breaker="[^"]+"')
        == 0
    )


def test_cors_allows_blob_origins_and_configured_only(api_stack: ApiStack) -> None:
    client = api_stack.client()
    preflight = {"Access-Control-Request-Method": "GET"}
    ok = client.options(
        "/scans", headers={"Origin": "https://crownsafe.blob.core.windows.net", **preflight}
    )
    assert (
        ok.headers.get("access-control-allow-origin") == "https://crownsafe.blob.core.windows.net"
    )
    for origin in ("https://evil.example", "https://x.blob.core.windows.net.evil.example"):
        denied = client.options("/scans", headers={"Origin": origin, **preflight})
        assert "access-control-allow-origin" not in denied.headers


def test_untrusted_host_is_refused(api_stack: ApiStack) -> None:
    response = api_stack.client().get("/health", headers={"Host": "attacker.example"})
    assert response.status_code == 400
