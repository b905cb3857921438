"""One structured log line per logical storage call, from `ResilientStorageClient._run`:
its fields (blob name, size, duration from the metrics' own timing, container, correlation
id, backend, operation, outcome, attempts), rendered as JSON by the service's formatter."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from crownsafe.correlation import correlation_scope
from crownsafe.errors import BlobNotFoundError, StorageGaveUpError
from crownsafe.jsonlog import JsonFormatter
from crownsafe.redaction import MARKER
from crownsafe.storage.metrics import StorageMetrics
from crownsafe.storage.resilient import OPERATION_LOGGER, ResilientStorageClient

from .test_metrics import Clock, TimedFake, make_client
from .test_resilient import OneWay, flaky


class Lines(logging.Handler):
    """Captures the operation logger's records as the JSON lines the service writes."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(JsonFormatter())
        self.records: list[logging.LogRecord] = []
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def lines() -> Iterator[Lines]:
    handler = Lines()
    logger = logging.getLogger(OPERATION_LOGGER)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(clock: Clock) -> ResilientStorageClient:
    return make_client(TimedFake(clock, cost=0.25), StorageMetrics(CollectorRegistry()), clock)


def test_an_upload_and_a_download_make_one_line_each_with_the_seed_fields(
    client: ResilientStorageClient, lines: Lines
) -> None:
    with correlation_scope("cid-up"):
        client.upload_file("photos/a.jpg", b"12345")
    client.download_blob("photos/a.jpg")
    up, down = lines.lines
    assert up["event"] == "storage_operation"
    assert up["operation"] == "upload_file" and down["operation"] == "download_blob"
    for line in (up, down):
        assert line["blob_name"] == "photos/a.jpg"
        assert line["size_bytes"] == 5
        assert line["duration_seconds"] == 0.25
        assert line["container"] == "box"
        assert line["backend"] == "fake"
        assert line["outcome"] == "success"
        assert line["attempts"] == 1
        assert line["error"] is None
        assert line["level"] == "INFO"
    assert up["correlation_id"] == "cid-up"
    assert down["correlation_id"] not in ("-", None, "cid-up")  # the call's own new id


def test_the_line_carries_the_duration_the_metrics_recorded(clock: Clock, lines: Lines) -> None:
    registry = CollectorRegistry()
    fake = TimedFake(clock, cost=0.5)
    client = make_client(fake, StorageMetrics(registry), clock)
    fake.blobs["a"] = b"x"
    fake.fail["download_blob"] = [flaky(), flaky()]
    client.download_blob("a")
    (line,) = lines.lines
    recorded = registry.get_sample_value(
        "crownsafe_storage_operation_duration_seconds_sum",
        {"backend": "fake", "operation": "download_blob"},
    )
    assert line["duration_seconds"] == recorded == 4.5
    assert line["attempts"] == 3


def test_a_failed_call_makes_one_error_line_with_its_typed_error(
    client: ResilientStorageClient, lines: Lines
) -> None:
    with pytest.raises(BlobNotFoundError):
        client.download_blob("missing")
    assert client.inner.fail is not None
    client.inner.fail["upload_file"] = [flaky() for _ in range(3)]  # type: ignore[attr-defined]
    with pytest.raises(StorageGaveUpError):
        client.upload_file("b", b"abc")
    missing, gave_up = lines.lines
    assert missing["outcome"] == "error" and missing["error"] == "BlobNotFoundError"
    assert missing["size_bytes"] is None and missing["attempts"] == 1
    assert gave_up["outcome"] == "error" and gave_up["error"] == "StorageGaveUpError"
    assert gave_up["attempts"] == 3
    assert missing["correlation_id"] not in ("-", None)


def test_streams_and_metadata_calls_report_their_size(
    client: ResilientStorageClient, lines: Lines
) -> None:
    client.upload_file("s", OneWay(b"abcdefg"))
    client.upload_file("p", io.BytesIO(b"abcd"))
    target = io.BytesIO()
    client.download_to("p", target)
    assert client.head_object("s").size == 7
    assert client.blob_exists("s") is True
    sizes = {(line["operation"], line["blob_name"]): line["size_bytes"] for line in lines.lines}
    assert sizes == {
        ("upload_file", "s"): 7,
        ("upload_file", "p"): 4,
        ("download_to", "p"): 4,
        ("head_object", "s"): 7,
        ("blob_exists", "s"): None,
    }


def test_listing_items_make_no_line_each(client: ResilientStorageClient, lines: Lines) -> None:
    for name in ("a", "b", "c"):
        client.upload_file(name, b"x")
    lines.lines.clear()
    assert [info.name for info in client.iter_blobs()] == ["a", "b", "c"]
    assert lines.lines == []


def test_a_secret_in_a_blob_name_never_reaches_the_line(
    client: ResilientStorageClient, lines: Lines
) -> None:
    name = "x?sig=SECRETSIGNATURE123"
    client.upload_file(name, b"1")
    (line,) = lines.lines
    assert line["blob_name"] == f"x?sig={MARKER}"
    assert "SECRETSIGNATURE123" not in json.dumps(line)


def test_no_line_when_info_is_off_for_the_operation_logger(client: ResilientStorageClient) -> None:
    logger = logging.getLogger(OPERATION_LOGGER)
    handler = Lines()
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        client.upload_file("a", b"1")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert handler.records == []
