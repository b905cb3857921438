"""Unit tests of harness.faults against a tiny local HTTP server (no emulator needed)."""

from __future__ import annotations

import http.client
import http.server
import json
import random
import socket
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from harness.faults import (
    FaultProxyServer,
    HttpFault,
    Proxy,
    ToxicError,
    ToxiproxyClient,
    ToxiproxyError,
    classify,
    error_response,
    make_toxic,
    parse_request_head,
)
from harness.faults.summary import ResilienceSummary

BODY = bytes(range(256)) * 40  # 10,240 bytes


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    received: ClassVar[list[tuple[str, str, bytes]]] = []

    def _reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.received.append(("GET", self.path, b""))
        self._reply(200, BODY)

    def do_PUT(self) -> None:
        if self.headers.get("Transfer-Encoding") == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    break
                data += self.rfile.read(size)
                self.rfile.readline()
        else:
            data = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.received.append(("PUT", self.path, data))
        self._reply(201, b"")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def upstream() -> Iterator[tuple[str, int]]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "127.0.0.1", server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def proxy(upstream: tuple[str, int]) -> Iterator[Proxy]:
    Handler.received = []
    with FaultProxyServer(rng=random.Random(1)) as server:
        yield server.create("unit", upstream, flavor="azure")


@pytest.fixture
def connect(proxy: Proxy) -> Iterator[Any]:
    """Open HTTP connections to the proxy; all are closed after the test."""
    opened: list[http.client.HTTPConnection] = []

    def open_connection(timeout: float = 5) -> http.client.HTTPConnection:
        conn = http.client.HTTPConnection(proxy.host, proxy.port, timeout=timeout)
        opened.append(conn)
        return conn

    yield open_connection
    for conn in opened:
        conn.close()


def get(proxy: Proxy, path: str = "/devstoreaccount1/c/blob", timeout: float = 5) -> Any:
    """GET through the proxy on a fresh connection: (status, headers, body)."""
    conn = http.client.HTTPConnection(proxy.host, proxy.port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


# -- toxics: validation ------------------------------------------------------------------


def test_toxic_defaults_and_names_follow_toxiproxy() -> None:
    toxic = make_toxic(None, "latency", attributes={"latency": 100})
    assert toxic.name == "latency_downstream"
    assert dict(toxic.attributes) == {"latency": 100, "jitter": 0}
    assert toxic.to_json()["stream"] == "downstream"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("x", "latncy"), "unknown toxic type"),
        (("x", "down"), "proxy.disable()"),
        (("x", "latency", "sideways"), "stream"),
        (("x", "latency", "upstream", 1.5), "toxicity"),
        (("x", "latency", "upstream", 1.0, {"delay": 1}), "no attribute"),
        (("x", "bandwidth", "upstream", 1.0, {"rate": -1}), ">= 0"),
        (("x", "slicer", "upstream", 1.0, {"average_size": 10, "size_variation": 10}), "smaller"),
    ],
)
def test_invalid_toxics_are_refused(args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(ToxicError, match=message):
        make_toxic(*args)


# -- the proxy ----------------------------------------------------------------------------


def test_forwards_and_counts(proxy: Proxy, connect: Any) -> None:
    conn = connect()
    conn.request("GET", "/devstoreaccount1/c/blob")
    response = conn.getresponse()
    status, body = response.status, response.read()
    conn.request("PUT", "/devstoreaccount1/c/blob?comp=block&blockid=AA", body=b"abc")
    conn.getresponse().read()
    assert (status, body) == (200, BODY)
    stats = proxy.stats()
    assert stats.connections_total == 1
    assert stats.requests_by_operation == {"get_blob": 1, "put_block": 1}
    assert Handler.received[-1] == ("PUT", "/devstoreaccount1/c/blob?comp=block&blockid=AA", b"abc")


def test_latency_delays_the_response(proxy: Proxy) -> None:
    proxy.add_toxic("slow", "latency", attributes={"latency": 150})
    started = time.monotonic()
    assert get(proxy)[0] == 200
    assert time.monotonic() - started >= 0.15


def test_bandwidth_limits_throughput(proxy: Proxy) -> None:
    proxy.add_toxic("thin", "bandwidth", attributes={"rate": 50})  # 50 KB/s
    started = time.monotonic()
    assert get(proxy)[2] == BODY
    assert time.monotonic() - started >= len(BODY) / 50_000 * 0.9


def test_slicer_keeps_the_bytes(proxy: Proxy) -> None:
    proxy.add_toxic(
        "slices", "slicer", attributes={"average_size": 50, "size_variation": 20, "delay": 10}
    )
    assert get(proxy)[2] == BODY


def test_limit_data_cuts_the_response(proxy: Proxy) -> None:
    proxy.add_toxic("cap", "limit_data", attributes={"bytes": 1000})
    with pytest.raises(http.client.HTTPException):
        get(proxy)
    assert proxy.stats().bytes_downstream == 1000


def test_reset_peer_resets(proxy: Proxy) -> None:
    proxy.add_toxic("rst", "reset_peer", "downstream", attributes={"timeout": 0})
    with pytest.raises((ConnectionResetError, http.client.RemoteDisconnected)):
        get(proxy)


def test_timeout_closes_after_the_timeout(proxy: Proxy) -> None:
    proxy.add_toxic("cut", "timeout", attributes={"timeout": 100})
    started = time.monotonic()
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        get(proxy)
    assert time.monotonic() - started >= 0.1


def test_timeout_zero_holds_data_until_removed(proxy: Proxy) -> None:
    proxy.add_toxic("hold", "timeout", "upstream", attributes={"timeout": 0})
    with pytest.raises(TimeoutError):
        get(proxy, timeout=0.3)
    proxy.remove_toxic("hold")
    assert get(proxy)[0] == 200


def test_toxicity_zero_never_applies(proxy: Proxy) -> None:
    proxy.add_toxic("never", "reset_peer", "upstream", toxicity=0.0, attributes={"timeout": 0})
    for _ in range(3):
        assert get(proxy)[0] == 200


def test_down_refuses_and_enable_restores(proxy: Proxy) -> None:
    proxy.disable()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((proxy.host, proxy.port), timeout=2)
    proxy.enable()
    assert get(proxy)[0] == 200


def test_duplicate_and_unknown_toxics(proxy: Proxy) -> None:
    proxy.add_toxic("a", "latency")
    with pytest.raises(ToxicError, match="already exists"):
        proxy.add_toxic("a", "latency")
    with pytest.raises(ToxicError, match="no toxic"):
        proxy.remove_toxic("b")
    updated = proxy.update_toxic("a", attributes={"latency": 5})
    assert updated.attr("latency") == 5 and [t.name for t in proxy.toxics()] == ["a"]
    proxy.reset()
    assert proxy.toxics() == []


# -- HTTP faults --------------------------------------------------------------------------


def test_http_fault_first_n_then_forward_on_the_same_connection(proxy: Proxy, connect: Any) -> None:
    proxy.add_http_fault("busy", 503, first_n=2, retry_after=2, retry_after_ms=1500)
    conn = connect()
    conn.request("GET", "/devstoreaccount1/c/blob")
    response = conn.getresponse()
    status, headers, body = response.status, dict(response.getheaders()), response.read()
    assert status == 503
    assert headers["x-ms-error-code"] == "ServerBusy"
    assert headers["Retry-After"] == "2" and headers["x-ms-retry-after-ms"] == "1500"
    root = ET.fromstring(body)
    assert root.findtext("Code") == "ServerBusy"
    assert headers["x-ms-request-id"] in (root.findtext("Message") or "")
    conn.request("PUT", "/devstoreaccount1/c/blob", body=b"dropped")
    response = conn.getresponse()
    assert (response.status, bool(response.read())) == (503, True)
    conn.request("PUT", "/devstoreaccount1/c/blob", body=b"kept")
    response = conn.getresponse()
    assert (response.status, response.read()) == (
        201,
        b"",
    )  # keep-alive: the 3rd request on it is forwarded
    assert [r[2] for r in Handler.received] == [b"kept"]
    assert proxy.stats().faults_injected == {"busy": 2}
    assert proxy.stats().connections_total == 1


def test_http_fault_consumes_a_chunked_body(proxy: Proxy, connect: Any) -> None:
    proxy.add_http_fault("once", 500, first_n=1)
    conn = connect()
    conn.request("PUT", "/devstoreaccount1/c/b", body=iter([b"ab", b"cd"]), encode_chunked=True)
    response = conn.getresponse()
    assert (response.status, b"InternalError" in response.read()) == (500, True)
    conn.request("PUT", "/devstoreaccount1/c/b", body=iter([b"xy", b"z"]), encode_chunked=True)
    response = conn.getresponse()
    assert (response.status, response.read()) == (201, b"")
    assert Handler.received[-1][2] == b"xyz"


def test_http_fault_matches_method_path_and_operation(proxy: Proxy, connect: Any) -> None:
    proxy.add_http_fault("puts", 429, method="PUT", path=r"comp=block\b")
    assert get(proxy)[0] == 200
    conn = connect()
    conn.request("PUT", "/devstoreaccount1/c/b?comp=block&blockid=1", body=b"x")
    response = conn.getresponse()
    assert (response.status, bool(response.read())) == (429, True)
    proxy.remove_http_fault("puts")
    proxy.add_http_fault("gets", 408, operations="get_blob")
    assert get(proxy)[0] == 408


def test_http_fault_probability_uses_the_rng(proxy: Proxy) -> None:
    proxy.add_http_fault("half", 503, probability=0.5)
    statuses = [get(proxy)[0] for _ in range(40)]
    assert 5 < statuses.count(503) < 35
    assert set(statuses) == {200, 503}


def test_expect_continue_is_answered_and_closed(proxy: Proxy) -> None:
    proxy.add_http_fault("busy", 503)
    data = b""
    with socket.create_connection((proxy.host, proxy.port), timeout=5) as sock:
        sock.sendall(
            b"PUT /devstoreaccount1/c/b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
            b"Expect: 100-continue\r\n\r\n"
        )
        while chunk := sock.recv(4096):
            data += chunk
    assert data.startswith(b"HTTP/1.1 503") and b"Connection: close" in data


def test_s3_error_body_and_classification() -> None:
    head = parse_request_head(
        b"PUT /bucket/key?partNumber=1&uploadId=u HTTP/1.1\r\nHost: h\r\n\r\n"
    )
    assert head is not None
    assert classify(head, "s3") == "upload_part"
    response = error_response(HttpFault("slow", 503), head, "s3", keep_alive=True)
    status_line, _, rest = response.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 503 Service Unavailable"
    xml = rest.split(b"\r\n\r\n", 1)[1]
    root = ET.fromstring(xml)
    assert root.findtext("Code") == "SlowDown" and root.findtext("RequestId")
    assert b"x-amz-request-id: " + root.findtext("RequestId", "").encode() in rest


@pytest.mark.parametrize(
    ("request_line", "flavor", "operation"),
    [
        ("PUT /devstoreaccount1/c?restype=container", "azure", "create_container"),
        ("GET /devstoreaccount1/c?restype=container&comp=list", "azure", "list_blobs"),
        ("PUT /devstoreaccount1/c/a/b.bin?comp=blocklist", "azure", "put_block_list"),
        ("HEAD /devstoreaccount1/c/b.bin", "azure", "get_blob_properties"),
        ("DELETE /devstoreaccount1/c/b.bin", "azure", "delete_blob"),
        ("GET /bucket?list-type=2&prefix=a", "s3", "list_objects"),
        ("GET /bucket?uploads", "s3", "list_multipart_uploads"),
        ("GET /bucket?versions&max-keys=1000", "s3", "list_object_versions"),
        ("POST /bucket?delete", "s3", "delete_objects"),
        ("POST /bucket/k?uploads", "s3", "create_multipart_upload"),
        ("POST /bucket/k?uploadId=1", "s3", "complete_multipart_upload"),
        ("HEAD /bucket/k", "s3", "head_object"),
        ("PUT /bucket", "s3", "create_bucket"),
    ],
)
def test_classification(request_line: str, flavor: Any, operation: str) -> None:
    head = parse_request_head(f"{request_line} HTTP/1.1\r\nHost: h\r\n\r\n".encode())
    assert head is not None and classify(head, flavor) == operation


def test_not_http_is_rejected_by_the_parser() -> None:
    assert parse_request_head(b"\x16\x03\x01 TLS hello\r\n\r\n") is None


def test_request_records_redact_signatures(proxy: Proxy) -> None:
    get(proxy, "/devstoreaccount1/c/b?sv=1&sig=SECRETVALUE&se=2")
    (record,) = proxy.requests()
    assert "SECRETVALUE" not in record.target and "sig=<redacted>" in record.target


# -- the Toxiproxy REST client (request building) -----------------------------------------


class Recorder:
    def __init__(self, replies: list[tuple[int, Any]]) -> None:
        self.calls: list[tuple[str, str, Any]] = []
        self.replies = replies

    def __call__(self, method: str, url: str, body: Any) -> tuple[int, Any]:
        self.calls.append((method, url, body))
        return self.replies.pop(0)


def test_toxiproxy_client_builds_the_rest_calls() -> None:
    proxy_json = {
        "name": "az",
        "listen": "127.0.0.1:26000",
        "upstream": "127.0.0.1:10000",
        "enabled": True,
    }
    toxic_json = {
        "name": "lat",
        "type": "latency",
        "stream": "upstream",
        "toxicity": 0.5,
        "attributes": {"latency": 10, "jitter": 2},
    }
    rec = Recorder([(201, proxy_json), (200, toxic_json), (204, None), (200, proxy_json),
                    (204, None), (400, {"error": "bad toxic"})])  # fmt: skip
    client = ToxiproxyClient("http://toxi:8474/", transport=rec)
    proxy = client.create("az", "127.0.0.1:10000")
    assert (proxy.host, proxy.port) == ("127.0.0.1", 26000)
    toxic = proxy.add_toxic("lat", "latency", "upstream", 0.5, {"latency": 10, "jitter": 2})
    assert toxic.attr("jitter") == 2
    proxy.remove_toxic("lat")
    proxy.disable()
    client.reset()
    with pytest.raises(ToxiproxyError, match="400: bad toxic"):
        client.destroy("az")
    assert rec.calls == [
        ("POST", "http://toxi:8474/proxies",
         {"name": "az", "upstream": "127.0.0.1:10000", "listen": "127.0.0.1:0", "enabled": True}),
        ("POST", "http://toxi:8474/proxies/az/toxics", toxic_json),
        ("DELETE", "http://toxi:8474/proxies/az/toxics/lat", None),
        ("POST", "http://toxi:8474/proxies/az", {"enabled": False}),
        ("POST", "http://toxi:8474/reset", None),
        ("DELETE", "http://toxi:8474/proxies/az", None),
    ]  # fmt: skip


def test_toxiproxy_client_validates_before_sending() -> None:
    rec = Recorder([])
    proxy_json = {"name": "p", "listen": "[::]:1", "upstream": "u:2"}
    client = ToxiproxyClient("http://toxi:8474", transport=rec)
    from harness.faults import RemoteProxy

    remote = RemoteProxy(client, proxy_json)
    with pytest.raises(ToxicError):
        remote.add_toxic("x", "latency", attributes={"lat": 1})
    assert rec.calls == [] and remote.host == "127.0.0.1"


def test_unreachable_toxiproxy_says_how_to_fix() -> None:
    client = ToxiproxyClient("http://127.0.0.1:9")
    with pytest.raises(ToxiproxyError, match="HARNESS_TOXIPROXY_URL"):
        client.version()


# -- the summary --------------------------------------------------------------------------


def test_summary_merges_workers_of_the_same_run_only(tmp_path: Path) -> None:
    first = ResilienceSummary("run-1", attempts_bound=4)
    first.record(fault="f", operation="o", backend="azure", attempts=3, succeeded=True)
    first.write(tmp_path)
    second = ResilienceSummary("run-1", attempts_bound=4)
    second.record(fault="f", operation="o", backend="azure", attempts=4, succeeded=False,
                  error="StorageUnavailableError", requests=4)  # fmt: skip
    second.check("scan", "azure", True)
    data = json.loads(second.write(tmp_path).read_text())
    (cell,) = data["cells"]
    assert (cell["calls"], cell["attempts"], cell["recovered"], cell["failed"]) == (2, 7, 1, 1)
    assert data["summary"]["lost"] == 0 and data["summary"]["max_attempts_per_call"] == 4
    other = ResilienceSummary("run-2", attempts_bound=4)
    other.record(fault="f", operation="o", backend="s3", attempts=1, succeeded=True, lost=True)
    data = json.loads(other.write(tmp_path).read_text())
    assert [c["backend"] for c in data["cells"]] == ["s3"] and data["summary"]["lost"] == 1


def test_layered_proxy_sends_toxics_to_the_inner_one(upstream: tuple[str, int]) -> None:
    """The Toxiproxy layout: HTTP faults/counters in front, toxics on the proxy behind."""
    with FaultProxyServer() as server:
        back = server.create("back", upstream, flavor="azure", http=False)
        front = server.create("front", (back.host, back.port), flavor="azure", toxics_via=back)
        toxic = front.add_toxic("slow", "latency", attributes={"latency": 120})
        assert back.toxics() == [toxic] and front.toxics() == [toxic]
        front.add_http_fault("busy", 503, first_n=1)
        assert get(front)[0] == 503
        started = time.monotonic()
        status, _, body = get(front)
        assert (status, body) == (200, BODY)
        assert time.monotonic() - started >= 0.12
        assert front.stats().requests_total == 2 and back.stats().requests_total == 0
        front.disable()
        with pytest.raises((ConnectionError, http.client.RemoteDisconnected)):
            get(front)
        front.reset()
        assert back.toxics() == [] and front.http_faults() == []
        assert get(front)[0] == 200
