"""Unit tests: the Azure client's request policies, pipeline options and stream helpers."""

from __future__ import annotations

import io
import threading
from typing import Any

import pytest
from azure.core.pipeline import PipelineContext, PipelineRequest
from azure.core.pipeline.transport import HttpRequest

from crownsafe.correlation import CORRELATION_HEADER_AZURE, correlation_scope
from crownsafe.storage.azure._transfer import (
    DOWNLOAD_RANGE_SIZE,
    AttemptGuard,
    BufferReader,
    CorrelationIdPolicy,
    CountingReader,
    OneAttemptPolicy,
    RepeatedRequestError,
    call_options,
    pipeline_options,
    remaining_length,
    request_hook,
    shared_transport,
    verify_from_settings,
)


def pipeline_request(options: dict[str, Any] | None = None) -> PipelineRequest[Any]:
    request = HttpRequest(
        "GET", "http://127.0.0.1/acct/c/b", headers={"x-ms-client-request-id": "sdk-id"}
    )
    context = PipelineContext(None, **(options or {}))
    return PipelineRequest(request, context)


def test_correlation_policy_uses_the_context_variable() -> None:
    request = pipeline_request()
    with correlation_scope("cid-1"):
        CorrelationIdPolicy().on_request(request)
    assert request.http_request.headers[CORRELATION_HEADER_AZURE] == "cid-1"


def test_correlation_policy_prefers_the_per_call_option_and_consumes_it() -> None:
    """The option carries the id into SDK worker threads; it must not reach the transport."""
    request = pipeline_request({CorrelationIdPolicy.OPTION: "cid-from-call"})
    with correlation_scope("cid-context"):
        CorrelationIdPolicy().on_request(request)
    assert request.http_request.headers[CORRELATION_HEADER_AZURE] == "cid-from-call"
    assert CorrelationIdPolicy.OPTION not in request.context.options


def test_correlation_policy_leaves_the_sdk_id_without_a_scope() -> None:
    request = pipeline_request()
    CorrelationIdPolicy().on_request(request)
    assert request.http_request.headers[CORRELATION_HEADER_AZURE] == "sdk-id"


def test_call_options_carry_correlation_and_a_fresh_guard() -> None:
    with correlation_scope("cid-2"):
        first, second = call_options(), call_options()
    assert first[CorrelationIdPolicy.OPTION] == "cid-2"
    assert isinstance(first[OneAttemptPolicy.OPTION], AttemptGuard)
    assert first[OneAttemptPolicy.OPTION] is not second[OneAttemptPolicy.OPTION]
    assert CorrelationIdPolicy.OPTION not in call_options()


def test_attempt_guard_refuses_the_same_request_twice() -> None:
    guard = AttemptGuard()
    guard.admit(HttpRequest("GET", "http://h/a/c/b", headers={"x-ms-range": "bytes=0-9"}))
    guard.admit(HttpRequest("GET", "http://h/a/c/b", headers={"x-ms-range": "bytes=10-19"}))
    guard.admit(HttpRequest("HEAD", "http://h/a/c/b"))
    with pytest.raises(RepeatedRequestError, match="one attempt per request"):
        guard.admit(HttpRequest("GET", "http://h/a/c/b", headers={"x-ms-range": "bytes=0-9"}))


def test_one_attempt_policy_without_a_guard_does_nothing() -> None:
    request = pipeline_request()
    OneAttemptPolicy().on_request(request)
    OneAttemptPolicy().on_request(request)
    assert OneAttemptPolicy.OPTION not in request.context.options


def test_request_hook_runs_policies_in_order() -> None:
    guard = AttemptGuard()
    hook = request_hook((CorrelationIdPolicy(), OneAttemptPolicy()))
    hook(pipeline_request({CorrelationIdPolicy.OPTION: "c", OneAttemptPolicy.OPTION: guard}))
    repeat = pipeline_request({CorrelationIdPolicy.OPTION: "c", OneAttemptPolicy.OPTION: guard})
    with pytest.raises(RepeatedRequestError):
        hook(repeat)
    assert repeat.http_request.headers[CORRELATION_HEADER_AZURE] == "c"


def test_pipeline_options_turn_sdk_retries_off() -> None:
    options = pipeline_options(
        timeout=12.0,
        request_policies=(),
        single_put_threshold=16,
        block_size=4,
        connection_verify="/tmp/ca.pem",
    )
    assert options["retry_total"] == 0
    assert "retry_policy" not in options
    assert (options["connection_timeout"], options["read_timeout"]) == (12.0, 12.0)
    assert (options["max_single_put_size"], options["max_block_size"]) == (16, 4)
    assert options["max_single_get_size"] == options["max_chunk_get_size"] == DOWNLOAD_RANGE_SIZE
    assert options["connection_verify"] == "/tmp/ca.pem"
    assert callable(options["raw_request_hook"])
    no_verify = pipeline_options(
        timeout=1, request_policies=(), single_put_threshold=1, block_size=1, connection_verify=None
    )
    assert "connection_verify" not in no_verify


def test_shared_transport_reads_bodies_in_sdk_sized_blocks() -> None:
    """Not azure-core's 4 KiB default: azure-storage-blob's 256 KiB, plus our timeouts."""
    transport = shared_transport(timeout=7.0, connection_verify="/tmp/ca.pem")
    config = transport.connection_config
    assert config.data_block_size == 256 * 1024
    assert (config.timeout, config.read_timeout, config.verify) == (7.0, 7.0, "/tmp/ca.pem")
    assert shared_transport(timeout=1.0, connection_verify=None).connection_config.verify is True


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("", None), ("false", False), ("0", False), ("true", True), ("/etc/ca.pem", "/etc/ca.pem")],
)
def test_verify_from_settings(raw: str, expected: bool | str | None) -> None:
    assert verify_from_settings(raw) == expected


def test_buffer_reader_reads_a_view_in_pieces() -> None:
    data = bytearray(range(256)) * 4
    reader = BufferReader(memoryview(data)[3:])
    assert reader.seek(0, io.SEEK_END) == len(data) - 3
    reader.seek(0)
    pieces = []
    while piece := reader.read(100):
        pieces.append(piece)
    assert b"".join(pieces) == bytes(data[3:])
    assert max(len(p) for p in pieces) == 100
    reader.seek(-5, io.SEEK_END)
    assert reader.read() == bytes(data[-5:])
    assert reader.seekable() and reader.readable()


def test_counting_reader_counts_and_cannot_seek() -> None:
    reader = CountingReader(io.BytesIO(b"abcdefgh"))
    assert reader.read(3) == b"abc"
    assert reader.read() == b"defgh"
    assert reader.read(4) == b""
    assert reader.consumed == 8
    assert reader.seekable() is False


def test_remaining_length_counts_from_the_current_position() -> None:
    stream = io.BytesIO(b"0123456789")
    stream.seek(4)
    assert remaining_length(stream) == 6
    assert stream.tell() == 4


def test_remaining_length_of_a_pipe_is_unknown() -> None:
    read_end, write_end = _pipe()
    try:
        assert remaining_length(read_end) is None
    finally:
        read_end.close()
        write_end.close()


def _pipe() -> tuple[io.BufferedReader, io.BufferedWriter]:
    import os

    r, w = os.pipe()
    return os.fdopen(r, "rb"), os.fdopen(w, "wb")


def test_correlation_policy_is_thread_safe_per_request() -> None:
    """Each request gets its own call's id even when calls run concurrently."""
    policy = CorrelationIdPolicy()
    seen: dict[str, str] = {}

    def run(cid: str) -> None:
        request = pipeline_request({CorrelationIdPolicy.OPTION: cid})
        policy.on_request(request)
        seen[cid] = request.http_request.headers[CORRELATION_HEADER_AZURE]

    threads = [threading.Thread(target=run, args=(f"id-{i}",)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert seen == {f"id-{i}": f"id-{i}" for i in range(16)}
