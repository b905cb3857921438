"""The Azure client against a scripted local HTTP server: attempts, headers, error mapping.

A real socket server answering with scripted statuses (no SDK mocks) checks what only the
wire shows: exactly one HTTP attempt per request (SDK retries off, including the stream
downloader's hidden re-GET), the correlation id on every request (also from the SDK's
worker threads), and which typed error each failure becomes.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from crownsafe.config import Settings
from crownsafe.correlation import CORRELATION_HEADER_AZURE, correlation_scope
from crownsafe.errors import (
    BlobConflictError,
    BlobNotFoundError,
    NonRetryableUploadError,
    StorageThrottledError,
    StorageUnavailableError,
)
from crownsafe.storage.azure import AzureBlobStorageClient

KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
MIB = 1024 * 1024


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body_size: int


@dataclass
class Reply:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    declared_length: int | None = None


def azure_error(status: int, code: str, **headers: str) -> Reply:
    body = (
        f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code>'
        f"<Message>scripted {code}</Message></Error>"
    ).encode()
    return Reply(
        status,
        {
            "Content-Type": "application/xml",
            "x-ms-error-code": code,
            "x-ms-request-id": f"srv-{code}",
            **headers,
        },
        body,
    )


class ScriptedServer:
    """Answers every request with `script(seen, index)`; records what it received."""

    def __init__(self, script: Callable[[Seen, int], Reply]) -> None:
        self.script = script
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return None

            def _handle(self) -> None:
                size = int(self.headers.get("Content-Length") or 0)
                if size:
                    self.rfile.read(size)
                seen = Seen(self.command, self.path, dict(self.headers.items()), size)
                with outer._lock:
                    outer.seen.append(seen)
                    index = len(outer.seen) - 1
                reply = outer.script(seen, index)
                self.send_response(reply.status)
                length = reply.declared_length if reply.declared_length else len(reply.body)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(length))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(reply.body)
                self.wfile.flush()
                self.close_connection = True

            do_GET = do_PUT = do_HEAD = do_DELETE = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def account_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/devstoreaccount1"

    def start(self) -> ScriptedServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture
def serve() -> Iterator[Callable[..., tuple[ScriptedServer, AzureBlobStorageClient]]]:
    made: list[tuple[ScriptedServer, AzureBlobStorageClient]] = []

    def start(
        script: Callable[[Seen, int], Reply], **client_kwargs: Any
    ) -> tuple[ScriptedServer, AzureBlobStorageClient]:
        server = ScriptedServer(script).start()
        client = AzureBlobStorageClient(
            "scripted",
            account_url=server.account_url,
            account_key=KEY,
            settings=Settings(),
            timeout=10,
            **client_kwargs,
        )
        made.append((server, client))
        return server, client

    yield start
    for server, client in made:
        client.close()
        server.stop()


def test_server_busy_is_one_attempt_and_throttled(serve: Callable[..., Any]) -> None:
    """503 ServerBusy: one request on the wire (SDK retries off), Retry-After kept."""
    server, client = serve(lambda seen, i: azure_error(503, "ServerBusy", **{"Retry-After": "3"}))
    with pytest.raises(StorageThrottledError) as caught:
        client.upload_file("b.txt", b"payload")
    error = caught.value
    assert len(server.seen) == 1
    assert (error.status, error.error_code, error.request_id) == (
        503,
        "ServerBusy",
        "srv-ServerBusy",
    )
    assert error.retry_after == 3.0
    assert (error.operation, error.blob_name) == ("upload_file", "b.txt")


def test_internal_error_on_download_is_one_attempt(serve: Callable[..., Any]) -> None:
    server, client = serve(lambda seen, i: azure_error(500, "InternalError"))
    with pytest.raises(StorageUnavailableError) as caught:
        client.download_blob("b.txt")
    assert len(server.seen) == 1
    assert caught.value.error_code == "InternalError"


def test_not_found_on_head_is_one_attempt(serve: Callable[..., Any]) -> None:
    server, client = serve(lambda seen, i: Reply(404, {"x-ms-error-code": "BlobNotFound"}))
    with pytest.raises(BlobNotFoundError):
        client.head_object("missing.txt")
    assert [s.method for s in server.seen] == ["HEAD"]


def test_body_cut_short_is_one_get(serve: Callable[..., Any]) -> None:
    """The SDK's stream downloader re-GETs a cut body; crownsafe refuses the repeat."""
    truncated = Reply(
        206,
        {"Content-Range": "bytes 0-99/100", "x-ms-blob-type": "BlockBlob"},
        b"x" * 10,
        declared_length=100,
    )
    server, client = serve(lambda seen, i: truncated)
    with pytest.raises(StorageUnavailableError, match="one attempt per request"):
        client.download_blob("b.txt")
    assert [s.method for s in server.seen] == ["GET"]


def test_correlation_id_on_every_block_from_worker_threads(serve: Callable[..., Any]) -> None:
    """Parallel block uploads run in SDK threads; each request still carries the id."""
    server, client = serve(
        lambda seen, i: Reply(201), single_put_threshold=MIB, block_size=MIB, max_concurrency=4
    )
    with correlation_scope("corr-blocks"):
        client.upload_file("big.bin", b"y" * (5 * MIB + 1))
    assert len(server.seen) == 7
    assert sum("comp=block&" in s.path for s in server.seen) == 6
    assert all(s.headers[CORRELATION_HEADER_AZURE] == "corr-blocks" for s in server.seen)


def test_without_a_scope_the_sdk_request_id_stands(serve: Callable[..., Any]) -> None:
    server, client = serve(lambda seen, i: Reply(201))
    client.upload_file("a.txt", b"a")
    client.upload_file("b.txt", b"b")
    ids = [s.headers[CORRELATION_HEADER_AZURE] for s in server.seen]
    assert len(ids) == 2 and all(ids) and ids[0] != ids[1]


def _fail_second_block(seen: Seen, index: int) -> Reply:
    return Reply(201) if index == 0 else azure_error(500, "InternalError")


class NonSeekable(io.RawIOBase):
    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer: Any) -> int:
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def _fail_second_block_then_clean_up(seen: Seen, index: int) -> Reply:
    if "comp=blocklist" in seen.path:
        return Reply(201, {"ETag": '"0x8DEMPTY"', "Last-Modified": "Tue, 08 Dec 2026 01:00:00 GMT"})
    if seen.method == "DELETE":
        return Reply(202)
    return _fail_second_block(seen, index)


def test_non_seekable_stream_failing_midway_is_not_retryable(serve: Callable[..., Any]) -> None:
    """The failure is final (a partial body is never re-sent), and the block already staged
    is dropped: an empty block list committed only where no blob exists, then that empty
    blob deleted only while unchanged (nothing is left, not even an uncommitted blob)."""
    server, client = serve(_fail_second_block_then_clean_up, block_size=MIB, max_concurrency=1)
    with pytest.raises(NonRetryableUploadError) as caught:
        client.upload_file("pipe.bin", NonSeekable(b"z" * (3 * MIB)))
    error = caught.value
    assert not isinstance(error, StorageUnavailableError)
    assert (error.status, error.error_code, error.request_id) == (
        500,
        "InternalError",
        "srv-InternalError",
    )
    assert "bytes were sent" in str(error)
    assert [(r.method, "comp=block" in r.path) for r in server.seen[:2]] == [("PUT", True)] * 2
    commit, delete = server.seen[2:]
    commit_headers = {k.lower(): v for k, v in commit.headers.items()}
    delete_headers = {k.lower(): v for k, v in delete.headers.items()}
    assert "comp=blocklist" in commit.path and commit_headers.get("if-none-match") == "*"
    assert delete.method == "DELETE" and delete_headers.get("if-match") == '"0x8DEMPTY"'


def test_seekable_stream_failure_stays_retryable(serve: Callable[..., Any]) -> None:
    """A seekable stream can be rewound by the resilient layer: the typed error stands."""
    _server, client = serve(_fail_second_block, single_put_threshold=MIB, block_size=MIB)
    with pytest.raises(StorageUnavailableError):
        client.upload_file("seek.bin", io.BytesIO(b"z" * (3 * MIB)))


def test_non_seekable_conflict_stays_a_conflict(serve: Callable[..., Any]) -> None:
    """Whether the stream ends within one block (one Put Blob) or not (blocks + commit)."""

    def script(seen: Seen, index: int) -> Reply:
        if "comp=block&" in seen.path:  # Put Block
            return Reply(201)
        return azure_error(409, "BlobAlreadyExists")  # Put Blob, Put Block List

    server, client = serve(script, block_size=MIB)
    for size in (10, 2 * MIB + 1):
        with pytest.raises(BlobConflictError):
            client.upload_file("pipe.bin", NonSeekable(b"z" * size), overwrite=False)
        headers = {k.lower(): v for k, v in server.seen[-1].headers.items()}
        assert headers["if-none-match"] == "*"
    assert sum("comp=block&" in seen.path for seen in server.seen) == 3


def test_overwrite_false_sends_if_none_match(serve: Callable[..., Any]) -> None:
    server, client = serve(lambda seen, i: azure_error(409, "BlobAlreadyExists"))
    with pytest.raises(BlobConflictError):
        client.upload_file("x.txt", b"x", overwrite=False, content_type="text/plain")
    headers = {k.lower(): v for k, v in server.seen[0].headers.items()}
    assert headers["if-none-match"] == "*"
    assert headers["x-ms-blob-content-type"] == "text/plain"


def test_unreachable_endpoint_message_hides_the_sas() -> None:
    """A SAS-authenticated client's connection error never shows the signature."""
    conn = (
        "BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;"
        "SharedAccessSignature=sv=2024-08-04&sp=rw&sig=TOPSECRETSIG%3D"
    )
    client = AzureBlobStorageClient("scripted", connection_string=conn, settings=Settings())
    try:
        with pytest.raises(StorageUnavailableError) as caught:
            client.download_blob("b.txt")
    finally:
        client.close()
    assert "TOPSECRETSIG" not in str(caught.value)
    assert "sig=" not in str(caught.value)


def _serve_blob(content: bytes) -> Callable[[Seen, int], Reply]:
    """Answers ranged GETs of one stored blob like the service (206 + Content-Range)."""

    def script(seen: Seen, index: int) -> Reply:
        headers = {k.lower(): v for k, v in seen.headers.items()}
        first, _, last = headers["x-ms-range"].removeprefix("bytes=").partition("-")
        start, end = int(first), min(int(last), len(content) - 1)
        return Reply(
            206,
            {
                "Content-Range": f"bytes {start}-{end}/{len(content)}",
                "x-ms-blob-type": "BlockBlob",
                "ETag": '"0x1"',
            },
            content[start : end + 1],
        )

    return script


def _ranges(server: ScriptedServer) -> list[str]:
    return [
        {k.lower(): v for k, v in s.headers.items()}["x-ms-range"]
        for s in server.seen
        if s.method == "GET"
    ]


def test_download_blob_reads_ten_mib_in_one_get(serve: Callable[..., Any]) -> None:
    """The caller wants bytes anyway: one GET up to 32 MiB (4 MiB ranges were ~2x slower)."""
    content = bytes(range(256)) * (40 * 1024)
    server, client = serve(_serve_blob(content))
    with correlation_scope("corr-whole"):
        assert client.download_blob("ten.bin") == content
    assert _ranges(server) == [f"bytes=0-{32 * MIB - 1}"]
    assert server.seen[0].headers[CORRELATION_HEADER_AZURE] == "corr-whole"


def test_download_to_streams_in_four_mib_ranges(serve: Callable[..., Any]) -> None:
    """Streaming reads keep 4 MiB ranges, each request with the correlation id."""
    content = bytes(range(256)) * (40 * 1024)
    server, client = serve(_serve_blob(content), max_concurrency=1)
    target = io.BytesIO()
    with correlation_scope("corr-stream"):
        assert client.download_to("ten.bin", target) == len(content)
    assert target.getvalue() == content
    assert _ranges(server) == [
        f"bytes=0-{4 * MIB - 1}",
        f"bytes={4 * MIB}-{8 * MIB - 1}",
        f"bytes={8 * MIB}-{10 * MIB - 1}",
    ]
    assert {s.headers[CORRELATION_HEADER_AZURE] for s in server.seen} == {"corr-stream"}


@pytest.mark.parametrize(
    "account_url",
    ["http://127.0.0.1:10000/devstoreaccount1", "https://acct.blob.core.windows.net/"],
)
@pytest.mark.parametrize(
    "name", ["a.txt", "dir/x y.bin", "h#sh?q%p+plus", "ünï/日本.txt", "~t!*'();:@&=$,[]"]
)
def test_blob_url_matches_the_sdk_blob_client(account_url: str, name: str) -> None:
    """get_blob_url is formatted without building a BlobClient, yet equals the SDK's URL."""
    client = AzureBlobStorageClient(
        "cont-1", account_url=account_url, account_key=KEY, settings=Settings()
    )
    try:
        sdk_url = client._container.get_blob_client(name).url
        assert client.get_blob_url(name) == sdk_url
    finally:
        client.close()


class Chunked:
    """A non-seekable stream of unknown length that hands out its chunks (`read_pieces`),
    like the API's StreamBridge; `read` is never needed."""

    def __init__(self, data: bytes, chunk: int) -> None:
        self._chunks = [data[i : i + chunk] for i in range(0, len(data), chunk)]

    def read(self, size: int = -1) -> bytes:
        raise AssertionError("the blocks are the stream's pieces, never read() and joined")

    def read_pieces(self, size: int) -> list[bytes]:
        taken: list[bytes] = []
        while size > 0 and self._chunks:
            chunk = self._chunks.pop(0)
            if len(chunk) > size:
                self._chunks.insert(0, chunk[size:])
                chunk = chunk[:size]
            taken.append(chunk)
            size -= len(chunk)
        return taken

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False


def test_stream_of_unknown_length_goes_in_blocks_of_its_pieces(serve: Callable[..., Any]) -> None:
    """2.5 blocks: three Put Blocks of the block size (the last shorter), one at a time,
    with ids of one length in order, then one Put Block List; short: one Put Blob."""
    server, client = serve(lambda seen, i: Reply(201), block_size=MIB, max_concurrency=1)
    with correlation_scope("cid-stream"):
        client.upload_file("s.bin", Chunked(b"s" * (5 * MIB // 2), 65536))  # type: ignore[arg-type]
    puts = [seen for seen in server.seen if "comp=block&" in seen.path]
    assert [seen.body_size for seen in puts] == [MIB, MIB, MIB // 2]
    ids = [seen.path.split("blockid=")[1].split("&")[0] for seen in puts]
    assert len(set(ids)) == 3 and len({len(i) for i in ids}) == 1
    assert "comp=blocklist" in server.seen[-1].path and len(server.seen) == 4
    assert {seen.headers[CORRELATION_HEADER_AZURE] for seen in server.seen} == {"cid-stream"}
    server.seen.clear()
    client.upload_file("t.bin", Chunked(b"t" * 1000, 300))  # type: ignore[arg-type]
    assert [(seen.method, seen.body_size) for seen in server.seen] == [("PUT", 1000)]
    assert "comp=" not in server.seen[0].path
